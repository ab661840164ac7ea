"""List V4L2 capture devices (capture cards, USB endoscopes) with their pixel formats and frame sizes."""

from __future__ import annotations

import fcntl
import glob
import os
import struct
from dataclasses import dataclass, field

# ioctl request numbers of the V4L2 API (linux/videodev2.h), for the struct sizes below.
VIDIOC_QUERYCAP = 0x80685600  # struct v4l2_capability, 104 bytes
VIDIOC_ENUM_FMT = 0xC0405602  # struct v4l2_fmtdesc, 64 bytes
VIDIOC_ENUM_FRAMESIZES = 0xC02C564A  # struct v4l2_frmsizeenum, 44 bytes
BUF_TYPE_VIDEO_CAPTURE = 1
CAP_VIDEO_CAPTURE = 0x00000001
CAP_DEVICE_CAPS = 0x80000000
FRMSIZE_TYPE_DISCRETE = 1


@dataclass
class VideoFormat:
    """A pixel format (fourcc such as "YUYV", "MJPG") and its frame sizes as "WxH" or "WxH..WxH" ranges."""

    fourcc: str
    description: str
    sizes: list[str] = field(default_factory=list)


@dataclass
class VideoDevice:
    path: str
    card: str = ""
    driver: str = ""
    bus: str = ""
    capture: bool = False
    formats: list[VideoFormat] = field(default_factory=list)
    error: str | None = None


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode(errors="replace")


def _fourcc(code: int) -> str:
    return "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4)).strip()


def _frame_sizes(fd: int, pixel_format: int) -> list[str]:
    sizes = []
    for index in range(64):
        request = bytearray(struct.pack("<III24x8x", index, pixel_format, 0))
        try:
            fcntl.ioctl(fd, VIDIOC_ENUM_FRAMESIZES, request)
        except OSError:
            break
        kind = struct.unpack_from("<I", request, 8)[0]
        values = struct.unpack_from("<6I", request, 12)
        if kind == FRMSIZE_TYPE_DISCRETE:
            sizes.append(f"{values[0]}x{values[1]}")
        else:
            sizes.append(f"{values[0]}x{values[3]}..{values[1]}x{values[4]}")
            break
    return sizes


def _formats(fd: int) -> list[VideoFormat]:
    formats = []
    for index in range(64):
        request = bytearray(struct.pack("<III32sII12x", index, BUF_TYPE_VIDEO_CAPTURE, 0, b"", 0, 0))
        try:
            fcntl.ioctl(fd, VIDIOC_ENUM_FMT, request)
        except OSError:
            break
        description = _text(request[12:44])
        pixel_format = struct.unpack_from("<I", request, 44)[0]
        formats.append(VideoFormat(_fourcc(pixel_format), description, _frame_sizes(fd, pixel_format)))
    return formats


def probe_device(path: str) -> VideoDevice:
    """Query one device node; problems (busy, not a V4L2 node) land in `error` rather than raising."""
    device = VideoDevice(path=path)
    try:
        fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
    except OSError as error:
        device.error = error.strerror or str(error)
        return device
    try:
        capability = bytearray(104)
        fcntl.ioctl(fd, VIDIOC_QUERYCAP, capability)
        device.driver, device.card, device.bus = (
            _text(capability[a:b]) for a, b in ((0, 16), (16, 48), (48, 80))
        )
        caps, device_caps = struct.unpack_from("<II", capability, 84)
        effective = device_caps if caps & CAP_DEVICE_CAPS else caps
        device.capture = bool(effective & CAP_VIDEO_CAPTURE)
        if device.capture:
            device.formats = _formats(fd)
    except OSError as error:
        device.error = f"not a V4L2 device ({error.strerror or error})"
    finally:
        os.close(fd)
    return device


def list_devices(pattern: str = "/dev/video*") -> list[VideoDevice]:
    """Every node matching `pattern`, probed, in name order."""
    return [probe_device(path) for path in sorted(glob.glob(pattern))]
