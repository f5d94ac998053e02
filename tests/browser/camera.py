"""A fake camera for the door's scanning tests: a printed card's QR code or Code 39 barcode drawn into a
YUV4MPEG2 video, which Chromium plays as its camera (``--use-file-for-fake-video-capture``).

The symbols are drawn from the same libraries and data as the print page (segno for the signed QR payload,
python-barcode's Code 39 of the code), module by module, in grey on a white card, so no image library
or ffmpeg is needed; the frames are written by hand (a Y plane and flat chroma planes, 4:2:0).
"""

WIDTH, HEIGHT = 640, 480
DARK, LIGHT, CARD = 30, 235, 225


def qr_rows(payload, scale=6):
    """The QR code of ``payload`` (as the print page makes it) as rows of booleans, dark True."""
    import segno

    return [
        list(row) for row in segno.make(payload, error='m', micro=False).matrix_iter(scale=scale, border=4)
    ]


def code39_rows(code, module=3, height=160):
    """The Code 39 barcode of ``code`` (as the print page makes it) as rows of booleans, dark True."""
    from barcode import Code39

    modules = Code39(code, add_checksum=False).build()[0]
    row = [False] * (10 * module)
    for bit in modules:
        row.extend([bit == '1'] * module)
    row.extend([False] * (10 * module))
    return [row] * height


def frame(rows):
    """A ``WIDTH`` × ``HEIGHT`` grey frame with ``rows`` drawn in its middle on a lighter card."""
    pixels = bytearray([CARD]) * (WIDTH * HEIGHT)
    top = (HEIGHT - len(rows)) // 2
    left = (WIDTH - len(rows[0])) // 2
    assert top >= 0 and left >= 0, 'the symbol does not fit the frame'
    for y, row in enumerate(rows):
        start = (top + y) * WIDTH + left
        pixels[start : start + len(row)] = bytes(DARK if dark else LIGHT for dark in row)
    return bytes(pixels)


def write_video(path, rows, frames=20, fps=10):
    """Write ``frames`` frames of ``rows`` as a YUV4MPEG2 file Chromium loops as its camera."""
    luma = frame(rows)
    chroma = bytes([128]) * ((WIDTH // 2) * (HEIGHT // 2))
    with open(path, 'wb') as f:
        f.write(f'YUV4MPEG2 W{WIDTH} H{HEIGHT} F{fps}:1 Ip A1:1 C420jpeg\n'.encode('ascii'))
        for _ in range(frames):
            f.write(b'FRAME\n')
            f.write(luma)
            f.write(chroma)
            f.write(chroma)
    return path
