"""What several effects draw with: the palette, bodies and skeletons, person-mask compositing."""
