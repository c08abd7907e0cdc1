"""The gallery's day: opening hours, the screen's sleep (HDMI-CEC), waking for the staff."""
