"""The pipeline core: frames, mailboxes, capture, the display loop, modes, stage workers, stats."""
