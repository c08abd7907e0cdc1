"""Cut the bundled sample clip from Debian's opencv-doc package.

Run by hand when the clip must be remade (it is committed; nothing fetches it at run time):

    apt-get download opencv-doc            # Debian bookworm: opencv-doc_4.6.0+dfsg-12_all.deb
    dpkg-deb -x opencv-doc_*.deb /tmp/ocvdoc
    python deploy/tools/make_sample_clip.py \
        /tmp/ocvdoc/usr/share/doc/opencv-doc/examples/data/vtest.avi appliance/data/sample/vtest-520-670.mp4

Frames 520-669 are the stretch of vtest.avi where walkers come closest to the camera.
"""

import sys

import cv2

FIRST, LAST = 520, 670


def main(src: str, dst: str) -> None:
    cap = cv2.VideoCapture(src)
    if not cap.isOpened():
        sys.exit(f"{src}: cannot open video")
    fps = cap.get(cv2.CAP_PROP_FPS) or 10.0
    writer = None
    index = 0
    while True:
        ok, frame = cap.read()
        if not ok or index >= LAST:
            break
        if index >= FIRST:
            if writer is None:
                h, w = frame.shape[:2]
                writer = cv2.VideoWriter(dst, cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
            writer.write(frame)
        index += 1
    if writer is None:
        sys.exit(f"{src}: fewer than {FIRST} frames")
    writer.release()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
