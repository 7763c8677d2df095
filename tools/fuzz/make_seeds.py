#!/usr/bin/env python3
"""Regenerates the committed seed corpora in tools/fuzz/corpus/<target>/ (a few KB each).

  link:  golden protocol bytes (tools/protocol/golden), with the link target.s mode byte in front
  jpeg:  tiny JPEGs (Pillow) and raw RGB24/YUYV frames, behind the jpeg target.s 16-byte parameter block
  onnx:  the smallest op fixtures (tools/op-fixtures/data)
  model: the onnx seeds compiled to .edgeseg files (named *.model: *.edgeseg is git-ignored) —
         needs the fuzz binary (tools/fuzz/run.sh builds it):
         make_seeds.py --fuzz-bin .build-fuzz/debug/edgeseg-fuzz
"""
import argparse, io, os, shutil, struct, subprocess, sys, tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CORPUS = os.path.join(ROOT, "tools", "fuzz", "corpus")
ONNX_SEEDS = ["gemm_matmul", "conv_pads", "activations"]


def reset(name):
    d = os.path.join(CORPUS, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def write(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def link():
    d = reset("link")
    golden = os.path.join(ROOT, "tools", "protocol", "golden")
    for kind in ["hello", "heartbeat", "detections", "alarm", "mask", "ack"]:
        write(d, kind, b"\x00" + open(os.path.join(golden, kind + ".bin"), "rb").read())
        write(d, kind + "_hmac", b"\x01" + open(os.path.join(golden, kind + "_hmac.bin"), "rb").read())
    serial = open(os.path.join(golden, "serial.bin"), "rb").read()
    write(d, "serial", b"\x02" + serial)
    write(d, "serial_keyed", b"\x03" + serial)


def params(flags, out_w, out_h, pitch=0, width=0, height=0, roi=(0, 0, 0, 0)):
    return struct.pack("<BBBBHHhhhh", flags, out_w - 1, out_h - 1, pitch, width, height, *roi)


def jpeg():
    from PIL import Image
    d = reset("jpeg")
    w, h = 24, 16
    img = Image.new("RGB", (w, h))
    img.putdata([((x * 10) % 256, (y * 15) % 256, ((x + y) * 7) % 256) for y in range(h) for x in range(w)])

    def enc(im, **kw):
        b = io.BytesIO()
        im.save(b, "JPEG", **kw)
        return b.getvalue()

    j420 = enc(img, quality=50, subsampling=2)
    write(d, "mjpeg_stream_fp32", params(0x00, 16, 16) + j420 + enc(img, quality=30, subsampling=0))
    write(d, "mjpeg_camera_int8_roi", params(0x10 | 0x08 | 2, 8, 12, 0, w, h, (2, 3, 16, 10)) + j420)
    write(d, "mjpeg_gray_fp16_stretch", params(0x10 | 0x04 | 1, 5, 7, 0, w, h) + enc(img.convert("L"), quality=40))
    write(d, "mjpeg_progressive", params(0x00, 12, 12) + enc(img, quality=40, progressive=True))
    raw = img.tobytes()
    write(d, "rgb24", params(0x20, 9, 9, 0, w, h) + raw)
    yuyv = bytearray()
    for y in range(h):
        for x in range(0, w, 2):
            yuyv += bytes([raw[(y * w + x) * 3], 128, raw[(y * w + x + 1) * 3], 128])
    write(d, "yuyv_roi", params(0x30 | 0x08, 10, 6, 0, w, h, (4, 2, 12, 12)) + bytes(yuyv))
    # Fuzz finding (PreprocessTests.oddWidthYUYVIsRejected): 3x2 YUYV read past its 12 bytes.
    write(d, "regress_yuyv_odd_width", params(0x30, 8, 8, 0, 3, 2) + bytes(range(100, 112)))


def onnx():
    d = reset("onnx")
    for n in ONNX_SEEDS:
        shutil.copy(os.path.join(ROOT, "tools", "op-fixtures", "data", n + ".onnx"), os.path.join(d, n + ".onnx"))


def model(fuzz_bin):
    d = reset("model")
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, EDGESEG_FUZZ_TARGET="onnx", EDGESEG_FUZZ_WRITE_MODELS=tmp, SWIFT_BACKTRACE="enable=no")
        for n in ONNX_SEEDS:
            for f in os.listdir(tmp):
                os.remove(os.path.join(tmp, f))
            subprocess.run([fuzz_bin, os.path.join(CORPUS, "onnx", n + ".onnx")], env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            shutil.copy(os.path.join(tmp, "1.edgeseg"), os.path.join(d, n + ".model"))  # *.edgeseg is git-ignored


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--fuzz-bin", help="edgeseg-fuzz binary: also regenerate the model corpus")
    a = ap.parse_args()
    link(); jpeg(); onnx()
    if a.fuzz_bin:
        model(a.fuzz_bin)
    for t in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, t))
        print(t, len(files), "files", sum(os.path.getsize(os.path.join(CORPUS, t, f)) for f in files), "bytes")
