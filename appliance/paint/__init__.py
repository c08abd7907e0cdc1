"""What several effects draw with: the palette, bodies and skeletons, person-mask compositing.

Also where strokes go as keypoints move (`strokes`, for trails and the evening), the evening's
long exposure in paint (`exposure`) and where its canvas and saved paintings live (`album`).
"""
