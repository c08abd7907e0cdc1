"""A pipeline's place in a show: what it tells the other boxes and what it takes from them.

`attach_show` joins the show for one pipeline (a pipeline observer, so the link closes when
the pipeline stops; the service builds a new pipeline, and so a new link, on a reload or at
opening time, and holds none while the gallery is closed). The box tells the show every mode
change (seen from the display loop) and pose event (from the pose stage), and the show-wide
reactions that fired on it; it does the show-wide actions of the other boxes, checked against
its own modes, without saying them again (no echo between boxes). With `shared_clock` each
frame gets the show's time (`appliance.show.clock`).
"""

from __future__ import annotations

import logging
from typing import Any

from appliance.config.sections import ShowSettings
from appliance.poses.events import PoseEvent
from appliance.show.clock import ShowClock
from appliance.show.link import ShowError, ShowLink
from appliance.show.messages import Message, action_problem

log = logging.getLogger(__name__)


class ShowBox:
    """The observer between one pipeline and the show's link."""

    def __init__(self, pipeline: Any, link: ShowLink):
        self.pipeline = pipeline
        self.link = link
        self.mode = ""  # the mode last told to the show
        self.link.on_join = self._joined

    # -- from this box ------------------------------------------------------------------------
    def frame_shown(self, pipeline: Any) -> None:
        if pipeline.mode_name != self.mode:  # a string compare per frame: nothing more
            self.mode = pipeline.mode_name
            self.link.publish("mode", mode=self.mode)

    def publish_action(self, action: str) -> None:
        """A show-wide reaction fired here (and was done here): every other box does it too."""
        self.link.publish("action", action=action)

    def publish_pose(self, event: PoseEvent) -> None:
        self.link.publish("pose", track=int(event.track), pose=event.pose, event=event.event)

    def _joined(self) -> None:
        """On every (re)connection the show learns which mode this box shows."""
        self.link.publish("mode", mode=self.pipeline.mode_name)

    # -- from the show ------------------------------------------------------------------------
    def received(self, message: Message) -> None:
        """On the link's thread: only an action does something; pipeline.apply_action is
        thread-safe and only asks (the display loop switches)."""
        if message.kind != "action":
            return
        action = message["action"]
        problem = action_problem(action, self.pipeline.modes)
        if problem:
            self.link.reject("action not for this box", f"{message.box}: {problem}")
            return
        log.info("show: %s from box %s", action, message.box)
        self.pipeline.apply_action(action)

    def stopped(self, pipeline: Any) -> None:
        self.link.close()


def attach_show(pipeline: Any, settings: ShowSettings) -> ShowBox | None:
    """Join the show for this pipeline when [show] is enabled; None when it is not, or when the
    settings cannot be used (one error line: the box plays alone). Never waits for the network."""
    if not settings.enabled:
        return None
    box: dict[str, ShowBox] = {}
    link = ShowLink(settings, lambda message: box["box"].received(message))
    box["box"] = show = ShowBox(pipeline, link)
    try:
        link.start()
    except ShowError as exc:
        log.error("show %s: %s; playing alone", settings.name, exc)
        return None
    pipeline.observers.append(show)
    if settings.shared_clock:
        pipeline.show_clock = ShowClock().frame_time
    return show
