"""The technician's page as HTML: plain templates, every value escaped, a little vanilla
JavaScript (served as a file, so the Content-Security-Policy allows no inline script) that
refreshes the preview, the mode and the stats line."""

from __future__ import annotations

from html import escape
from string import Template

HEAD = Template("""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title><link rel="stylesheet" href="/page.css"></head>
<body>
""")

LOGIN = Template("""<main class="login"><h1>appliance</h1>
<p>The technician's page. Log in with the password set by <code>appliance password</code>.</p>
$message
<form method="post" action="/login">
<label>Password <input type="password" name="password" id="password" autocomplete="current-password" autofocus></label>
<button type="submit" id="login">Log in</button>
</form></main></body></html>
""")

PAGE = Template("""<header><h1>appliance</h1>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="$csrf">
<button type="submit" id="logout">Log out</button></form></header>
<main>
<section><h2>Live</h2>
<img id="preview" src="/preview.jpg" alt="live preview" data-every-ms="$every_ms">
<p>Mode: <strong id="mode">$mode</strong></p>
<p id="stats">$stats</p>
<form method="post" action="/mode" id="modes"><input type="hidden" name="csrf" value="$csrf">
$mode_buttons</form></section>
<section><h2>Doctor</h2><pre id="doctor">checking ...</pre></section>
<section><h2>Taught poses</h2><ul id="poses">$poses</ul></section>
<section><h2>Config</h2>
<p>In force: <code id="config-file">$config_file</code></p>
$config_message
<form method="post" action="/config"><input type="hidden" name="csrf" value="$csrf">
<textarea name="text" id="config" rows="24" cols="100" spellcheck="false">$config_text</textarea>
<p><button type="submit" id="save">Check, save and reload</button></p></form>
</section></main>
<script src="/page.js"></script></body></html>
""")

CSS = """body { font-family: sans-serif; margin: 1em auto; max-width: 60em; padding: 0 1em; }
header { display: flex; justify-content: space-between; align-items: center; }
img#preview { max-width: 100%; background: #222; min-height: 4em; }
.problems { color: #a00; } .saved { color: #060; }
button.current { font-weight: bold; outline: 2px solid #333; }
textarea { width: 100%; font-family: monospace; }
pre { white-space: pre-wrap; }
"""

JS = """(function () {
  var img = document.getElementById("preview");
  var every = parseInt(img.dataset.everyMs, 10) || 500;
  function refresh() {
    if (document.visibilityState !== "visible") return;
    var next = new Image();
    next.onload = function () { img.src = next.src; };
    next.src = "/preview.jpg?t=" + Date.now();
  }
  function text(id, value) { document.getElementById(id).textContent = value; }
  function status() {
    fetch("/state.json", {credentials: "same-origin"}).then(function (r) { return r.json(); })
      .then(function (s) {
        text("mode", s.mode === null ? "asleep" : s.mode);
        text("stats", s.stats);
      }).catch(function () {});
  }
  function doctor() {
    fetch("/doctor.json", {credentials: "same-origin"}).then(function (r) { return r.json(); })
      .then(function (d) { text("doctor", d.lines.join("\\n")); }).catch(function () {});
  }
  setInterval(refresh, every);
  setInterval(status, 2000);
  setInterval(doctor, 30000);
  doctor();
})();
"""


def login_page(message: str = "") -> str:
    note = f'<p class="problems" id="message">{escape(message)}</p>' if message else ""
    return HEAD.substitute(title="appliance: log in") + LOGIN.substitute(message=note)


def main_page(csrf: str, status: dict, every_ms: int, poses: list[str], config_text: str,
              config_file: str, problems: list[str] | None = None, saved: str = "") -> str:
    buttons = "\n".join(_mode_button(name, name == status["mode"]) for name in status["modes"])
    return HEAD.substitute(title="appliance: technician") + PAGE.substitute(
        csrf=escape(csrf), every_ms=every_ms,
        mode=escape(status["mode"] if status["mode"] is not None else "asleep"),
        stats=escape(status["stats"]), mode_buttons=buttons or "<p>No modes while asleep.</p>",
        poses="\n".join(f"<li>{escape(p)}</li>" for p in poses) or "<li>none taught yet</li>",
        config_file=escape(config_file), config_text=escape(config_text),
        config_message=_config_message(problems, saved))


def _mode_button(name: str, current: bool) -> str:
    marked = ' class="current"' if current else ""
    return f'<button type="submit" name="mode" value="{escape(name)}"{marked}>{escape(name)}</button>'


def _config_message(problems: list[str] | None, saved: str) -> str:
    if problems:
        items = "\n".join(f"<li>{escape(p)}</li>" for p in problems)
        return (f'<div class="problems" id="problems"><p>Not saved: {len(problems)} '
                f'problem(s), the file is unchanged.</p><ul>{items}</ul></div>')
    if saved:
        return f'<p class="saved" id="saved">{escape(saved)}</p>'
    return ""
