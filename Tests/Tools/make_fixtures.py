#!/usr/bin/env python3
"""Makes the upload fixtures in Tests/Fixtures/uploads (committed; rerun to refresh).

Needs Pillow (pip install pillow) for real JPEG/PNG files with metadata.
"""
import io
import pathlib
import zlib

from PIL import Image, PngImagePlugin

OUT = pathlib.Path(__file__).resolve().parents[1] / "Fixtures" / "uploads"
OUT.mkdir(parents=True, exist_ok=True)


def pdf(objects, trailer_extra=""):
    """A well-formed PDF from object bodies (1-based), with a cross-reference table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R {trailer_extra}>>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def page_objects(text, catalog_extra=b""):
    content = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    return [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]


def main():
    (OUT / "payslip.pdf").write_bytes(pdf(page_objects("Bulletin de salaire - Jane Doe")))
    (OUT / "javascript.pdf").write_bytes(pdf(page_objects("Hello", b"/OpenAction 6 0 R ") + [
        b"<< /Type /Action /S /JavaScript /JS (app.alert('hi');) >>"]))
    # The script hides in a compressed object stream, its name spelt with # escapes.
    hidden = b"6 0 << /Type /Action /S /J#61vaScript /J#53 (app.launchURL('http://example.org');) >>"
    packed = zlib.compress(hidden)
    (OUT / "hidden-javascript.pdf").write_bytes(pdf(page_objects("Hello", b"/OpenAction 6 0 R ") + [
        b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length " + str(len(packed)).encode() + b" >>\nstream\n" + packed + b"\nendstream"]))
    (OUT / "embedded-file.pdf").write_bytes(pdf(page_objects("Hello", b"/Names << /EmbeddedFiles 6 0 R >> ") + [
        b"<< /Names [(x.exe) << /Type /Filespec /EF << /F 7 0 R >> >>] >>",
        b"<< /Type /EmbeddedFile /Length 2 >>\nstream\nMZ\nendstream"]))
    (OUT / "page.html").write_bytes(b"<!doctype html><html><body><script>alert(1)</script></body></html>\n")

    image = Image.new("RGB", (64, 48), (200, 120, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"          # Make
    exif[0x0110] = "Model X"             # Model
    gps = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 7.0)}
    exif[0x8825] = gps                   # GPS IFD
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes(), quality=85, comment=b"shot at home")
    (OUT / "photo-with-gps.jpg").write_bytes(buffer.getvalue())

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Doe")
    info.add_text("Location", "48.8566,2.3522")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info, exif=exif.tobytes())
    (OUT / "scan-with-text.png").write_bytes(buffer.getvalue())
    (OUT / "scan-named.pdf").write_bytes(buffer.getvalue())  # a PNG under a PDF name


if __name__ == "__main__":
    main()
