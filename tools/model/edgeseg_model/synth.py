"""Synthetic steel-wire-rope images with pixel masks (0 background, 1 wear, 2 broken wire).

A scene is a rope (a cylinder seen from the side, made of helical strands, each strand made of
wires laid the other way) crossing the frame, plus defects placed in rope coordinates
(u along the axis, s = arc length around the visible half of the circumference). Because the
defects live in rope coordinates, the same scene renders as a scrolling rope (demo clip) by
shifting u. Everything is deterministic for a given seed (numpy Generator + PIL only).

Defects:
- wear / rust (class 1): a soft-edged patch where the strands are flattened (grooves fade, crowns
  become a flat band) and discoloured (rust brown or polished bright);
- broken wire (class 2): short bright wire ends, protruding from the silhouette or lying across the
  strands, 1-4 per break, with a dark cast shadow; or a cut strand (a dark gap with bright ends).
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

BACKGROUND, WEAR, BROKEN = 0, 1, 2


# --------------------------------------------------------------------------- scene description
@dataclass
class Wear:
    u: float          # centre along the axis (px)
    s: float          # centre on the surface, as a fraction of the visible half-circumference [-1, 1]
    a: float          # half length along the axis (px)
    b: float          # half width across, as a fraction of the radius
    rust: bool        # rust brown (True) or polished bright (False)
    seed: int         # boundary wobble


@dataclass
class Broken:
    u: float
    kind: str                   # 'protrude' | 'across' | 'gap'
    side: int                   # +1 / -1: which silhouette (protrude) or half (across)
    wires: list = field(default_factory=list)   # per wire: (angle_rad, length_px, bend, width_px)
    s: float = 0.0


@dataclass
class Scene:
    radius: float
    angle: float              # axis angle (rad) in the image
    centre: tuple             # (cx, cy) of the axis as a fraction of the frame
    strand_width: float       # strand width along the axis (px)
    lay: float                # tan of strand lay angle
    wires_per_strand: int
    tint: tuple               # RGB multiplier of the steel
    light: float              # light direction around the circumference (rad)
    spec: float
    grease: float             # amount of low-frequency darkening on the rope
    bg: dict
    wear: list
    broken: list
    seed: int


def random_scene(rng: np.random.Generator, width: int, height: int, length: float | None = None,
                 defect_rate: float = 1.0, angle_max: float = 0.35) -> Scene:
    """length: extent along u in which defects are placed (default: the frame's diagonal)."""
    short = min(width, height)
    radius = float(rng.uniform(0.15, 0.30) * short)
    span = length if length is not None else math.hypot(width, height)
    wear, broken = [], []
    n_wear = rng.poisson(1.0 * defect_rate * span / 700)
    n_broken = rng.poisson(2.2 * defect_rate * span / 700)
    for _ in range(n_wear):
        wear.append(Wear(u=float(rng.uniform(-span / 2, span / 2)), s=float(rng.uniform(-0.7, 0.7)),
                         a=float(rng.uniform(0.3, 1.3) * radius), b=float(rng.uniform(0.25, 0.8)),
                         rust=bool(rng.random() < 0.55), seed=int(rng.integers(1 << 30))))
    for _ in range(n_broken):
        kind = str(rng.choice(['protrude', 'across', 'gap'], p=[0.5, 0.3, 0.2]))
        side = int(rng.choice([-1, 1]))
        wires = []
        for _ in range(int(rng.integers(1, 5)) if kind != 'gap' else 1):
            if kind == 'protrude':
                ang = float(rng.uniform(0.25, 1.3) * rng.choice([-1, 1]))
                ln = float(rng.uniform(0.35, 0.9) * radius)
            else:
                ang = float(rng.uniform(-1.2, 1.2))
                ln = float(rng.uniform(0.3, 0.6) * radius)
            wires.append((ang, ln, float(rng.uniform(-0.3, 0.3)), float(rng.uniform(0.045, 0.075) * radius)))
        broken.append(Broken(u=float(rng.uniform(-span / 2, span / 2)), kind=kind, side=side,
                             wires=wires, s=float(rng.uniform(-0.6, 0.6))))
    g = float(rng.uniform(0.75, 1.05))
    tint = (g * float(rng.uniform(0.92, 1.05)), g, g * float(rng.uniform(0.92, 1.1)))
    bg = dict(level=float(rng.uniform(20, 150)), grad=float(rng.uniform(-60, 60)),
              grad_angle=float(rng.uniform(0, 2 * math.pi)), blobs=float(rng.uniform(5, 35)),
              color=tuple(float(c) for c in rng.uniform(0.8, 1.2, 3)),
              n_rects=int(rng.integers(0, 4)), seed=int(rng.integers(1 << 30)))
    return Scene(radius=radius, angle=float(rng.uniform(-angle_max, angle_max)),
                 centre=(float(rng.uniform(0.4, 0.6)), float(rng.uniform(0.35, 0.65))),
                 strand_width=float(rng.uniform(0.35, 0.6) * radius), lay=float(rng.uniform(0.45, 0.9)),
                 wires_per_strand=int(rng.integers(4, 8)), tint=tint,
                 light=float(rng.uniform(-0.8, 0.8)), spec=float(rng.uniform(0.2, 0.7)),
                 grease=float(rng.uniform(0.0, 0.35)), bg=bg, wear=wear, broken=broken,
                 seed=int(rng.integers(1 << 30)))


# --------------------------------------------------------------------------- helpers
def smooth_noise(rng: np.random.Generator, h: int, w: int, cell: float) -> np.ndarray:
    """Band-limited noise in about [-1, 1]: a coarse random grid upsampled bicubically."""
    gh, gw = max(2, int(h / cell) + 2), max(2, int(w / cell) + 2)
    grid = rng.uniform(0, 255, (gh, gw)).astype(np.uint8)
    img = Image.fromarray(grid, 'L').resize((w, h), Image.BICUBIC)
    return np.asarray(img, np.float32) / 127.5 - 1.0


def _rope_noise(seed: int, a, b) -> np.ndarray:
    """Smooth noise in about [-1, 1] as a function of rope coordinates (moves with the rope)."""
    r = np.random.default_rng(seed)
    out = 0.0
    for _ in range(5):
        fa, fb, ph = r.uniform(0.5, 1.6), r.uniform(-1.2, 1.2), r.uniform(0, 2 * math.pi)
        out = out + np.sin(fa * a + fb * b + ph)
    return (out / 2.2).astype(np.float32)


def _to_image(sc: Scene, w: int, h: int, u_off: float, u, v):
    cx, cy = sc.centre[0] * w, sc.centre[1] * h
    ca, sa = math.cos(sc.angle), math.sin(sc.angle)
    uu = np.asarray(u, np.float64) - u_off
    vv = np.asarray(v, np.float64)
    return cx + uu * ca - vv * sa, cy + uu * sa + vv * ca


# --------------------------------------------------------------------------- rendering
def render(sc: Scene, width: int, height: int, u_off: float = 0.0, noise_seed: int = 0,
           blur: float | None = None, noise: float | None = None, jpeg: int | None = None,
           anchored: bool = False):
    """Returns (rgb uint8 HxWx3, mask uint8 HxW). noise_seed varies sensor noise per frame.

    anchored=True makes the wear-patch outline and the grease pattern functions of rope
    coordinates, so they move with the rope when u_off scrolls (demo clip). The default (image-space
    noise) is what the demo model was trained on."""
    rng = np.random.default_rng([sc.seed, noise_seed])
    h, w = height, width
    R = sc.radius
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = sc.centre[0] * w, sc.centre[1] * h
    ca, sa = math.cos(sc.angle), math.sin(sc.angle)
    u = (xs - cx) * ca + (ys - cy) * sa + u_off
    v = -(xs - cx) * sa + (ys - cy) * ca

    # --- background: gradient, blobs, a few dim machine-like rectangles
    bgp = sc.bg
    brng = np.random.default_rng(bgp['seed'])
    ga = bgp['grad_angle']
    bgl = bgp['level'] + bgp['grad'] * (((xs / w - 0.5) * math.cos(ga) + (ys / h - 0.5) * math.sin(ga)))
    bgl = bgl + bgp['blobs'] * smooth_noise(brng, h, w, 90) + 6 * smooth_noise(brng, h, w, 12)
    img = np.repeat(bgl[..., None], 3, axis=2) * np.asarray(bgp['color'], np.float32)
    if bgp['n_rects']:
        layer = Image.new('L', (w, h), 0)
        d = ImageDraw.Draw(layer)
        for _ in range(bgp['n_rects']):
            x0, y0 = brng.uniform(-0.2, 1.0) * w, brng.uniform(-0.2, 1.0) * h
            d.rectangle([x0, y0, x0 + brng.uniform(0.1, 0.5) * w, y0 + brng.uniform(0.05, 0.3) * h],
                        fill=int(brng.integers(30, 90)))
        lay = np.asarray(layer.filter(ImageFilter.GaussianBlur(2)), np.float32)[..., None]
        img = img + lay * (np.sign(brng.uniform(-1, 1)) or 1.0) * 0.6

    # --- rope body
    n = np.clip(v / R, -1.0, 1.0)
    phi = np.arcsin(n)                      # angle around the circumference, 0 = facing the camera
    s = phi * R                             # arc length
    q = (u - s * sc.lay) / sc.strand_width  # strand coordinate
    f = q - np.floor(q)
    strand = np.sin(np.pi * f) ** 0.55      # rounded strand crowns, dark grooves
    r = (u + s / max(sc.lay, 1e-3) * 0.6) / (sc.strand_width / sc.wires_per_strand)
    wire = 0.8 + 0.2 * np.abs(np.sin(np.pi * r))
    # silhouette follows the strand crowns
    q_edge = (u - np.sign(v) * (R * np.pi / 2) * sc.lay) / sc.strand_width
    edge = R * (0.95 + 0.05 * np.sin(np.pi * (q_edge - np.floor(q_edge))))
    inside = np.abs(v) < edge

    # wear: flatten strands and discolour inside soft patches
    wear_w = np.zeros((h, w), np.float32)
    rust_w = np.zeros((h, w), np.float32)
    wear_mask = np.zeros((h, w), bool)
    s_frac = s / (R * np.pi / 2)
    for wp in sc.wear:
        wrng = np.random.default_rng(wp.seed)
        d = ((u - wp.u) / wp.a) ** 2 + ((s_frac - wp.s) / wp.b) ** 2
        if anchored:
            d = d + 0.35 * _rope_noise(wp.seed, (u - wp.u) / max(8.0, R * 0.3), s_frac / 0.3)
        else:
            d = d + 0.35 * smooth_noise(wrng, h, w, max(8.0, R * 0.3))
        soft = np.clip((1.15 - d) / 0.3, 0, 1).astype(np.float32)
        hard = (d < 1.0) & inside
        wear_mask |= hard
        wear_w = np.maximum(wear_w, soft)
        if wp.rust:
            rust_w = np.maximum(rust_w, soft)
    strand = strand * (1 - 0.85 * wear_w) + 0.85 * wear_w * 0.82
    wire = wire * (1 - wear_w) + wear_w * (0.97 + 0.03 * wire)

    diffuse = np.clip(np.cos(phi - sc.light), 0, 1)
    # strand crown tilt modulates the specular highlight
    crown = np.cos(np.pi * (f - 0.5)) * (1 - wear_w)
    specular = sc.spec * np.clip(np.cos(phi - sc.light) * (0.6 + 0.4 * crown), 0, 1) ** 12
    if anchored:
        gn = _rope_noise(sc.seed, u / (R * 0.8), s_frac * 2.0)
    else:
        gn = smooth_noise(rng, h, w, R * 0.8)
    grease = 1 - sc.grease * (0.5 + 0.5 * gn)
    lum = (40 + 170 * diffuse) * (0.3 + 0.7 * strand) * wire * grease + 255 * specular * (0.4 + 0.6 * strand)
    lum = lum + 40 * wear_w * (1 - rust_w) * diffuse      # polished wear is brighter and flat
    rope = lum[..., None] * np.asarray(sc.tint, np.float32)
    rust_col = np.asarray([1.05, 0.62, 0.35], np.float32)
    rope = rope * (1 - rust_w[..., None] * (1 - rust_col)) * (1 - 0.2 * rust_w[..., None])
    ao = np.clip((edge - np.abs(v)) / (0.08 * R), 0, 1)   # darker rim
    rope = rope * (0.55 + 0.45 * ao[..., None])
    img = np.where(inside[..., None], rope, img)

    mask = np.zeros((h, w), np.uint8)
    mask[wear_mask] = WEAR

    # --- broken wires, drawn as polylines in image space
    if sc.broken:
        bright = Image.new('L', (w, h), 0)
        alpha = Image.new('L', (w, h), 0)
        shadow = Image.new('L', (w, h), 0)
        gapl = Image.new('L', (w, h), 0)
        mlay = Image.new('L', (w, h), 0)
        db, da, ds, dg, dm = (ImageDraw.Draw(x) for x in (bright, alpha, shadow, gapl, mlay))
        lx = -math.sin(sc.light) * 3
        for br in sc.broken:
            if br.kind == 'gap':
                ang, ln, _, wd = br.wires[0]
                s0 = br.s * R * math.pi / 2
                # a strand cut: dark gap across one strand, bright frayed ends on both sides
                vs = np.linspace(s0 - 0.5 * sc.strand_width, s0 + 0.5 * sc.strand_width, 8)
                vv = R * np.sin(np.clip(vs / R, -1.5, 1.5))
                uu = br.u + vs * sc.lay
                gx, gy = _to_image(sc, w, h, u_off, uu, vv)
                pts = list(zip(gx.tolist(), gy.tolist()))
                gw = max(3, int(ln * 0.25))
                dg.line(pts, fill=255, width=gw)
                dm.line(pts, fill=255, width=gw + 4)
                for sign in (-1, 1):
                    ex, ey = _to_image(sc, w, h, u_off, uu + sign * gw * 0.6, vv)
                    e = list(zip(ex.tolist(), ey.tolist()))
                    db.line(e, fill=235, width=max(2, int(wd)))
                    da.line(e, fill=255, width=max(2, int(wd)))
                continue
            for ang, ln, bend, wd in br.wires:
                if br.kind == 'protrude':
                    v0 = br.side * R * 0.93
                    t = np.linspace(0, 1, 12)
                    du = np.cos(ang) * ln * t * np.sign(ang)
                    dv = br.side * abs(np.sin(ang)) * ln * t
                    du = du + bend * ln * t ** 2
                    uu, vv = br.u + du, v0 + dv
                else:
                    s0 = br.s * R * math.pi / 2
                    v0 = R * math.sin(s0 / R)
                    t = np.linspace(0, 1, 12)
                    uu = br.u + np.cos(ang) * ln * t + bend * ln * t ** 2
                    vv = np.clip(v0 + np.sin(ang) * ln * t, -0.9 * R, 0.9 * R)
                px, py = _to_image(sc, w, h, u_off, uu, vv)
                pts = list(zip(px.tolist(), py.tolist()))
                wi = max(2, int(round(wd)))
                ds.line([(x + lx + 2, y + 3) for x, y in pts], fill=255, width=wi + 2)
                # brighter towards the cut end
                for k in range(len(pts) - 1):
                    val = int(180 + 75 * (k + 1) / (len(pts) - 1))
                    db.line([pts[k], pts[k + 1]], fill=val, width=wi)
                    da.line([pts[k], pts[k + 1]], fill=255, width=wi)
                db.ellipse([pts[-1][0] - wi / 2, pts[-1][1] - wi / 2, pts[-1][0] + wi / 2, pts[-1][1] + wi / 2],
                           fill=255)
                dm.line(pts, fill=255, width=wi + 4)
        sh = np.asarray(shadow.filter(ImageFilter.GaussianBlur(1.5)), np.float32)[..., None] / 255
        gp = np.asarray(gapl.filter(ImageFilter.GaussianBlur(1.0)), np.float32)[..., None] / 255
        img = img * (1 - 0.55 * sh) * (1 - 0.8 * gp)
        al = np.asarray(alpha.filter(ImageFilter.GaussianBlur(0.6)), np.float32)[..., None] / 255
        bv = np.asarray(bright, np.float32)[..., None] * np.asarray(sc.tint, np.float32)
        img = img * (1 - al) + bv * al
        mask[np.asarray(mlay) > 0] = BROKEN

    # --- camera: gain/gamma, blur, noise, JPEG
    gain = rng.uniform(0.75, 1.25)
    gamma = rng.uniform(0.8, 1.25)
    img = 255.0 * (np.clip(img * gain, 0, 255) / 255.0) ** gamma
    out = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), 'RGB')
    blur = rng.uniform(0, 1.4) if blur is None else blur
    if blur > 0.05:
        out = out.filter(ImageFilter.GaussianBlur(float(blur)))
    arr = np.asarray(out, np.float32)
    noise = rng.uniform(1.5, 7) if noise is None else noise
    arr = arr + rng.normal(0, noise, arr.shape)
    out = Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8), 'RGB')
    if jpeg is None and rng.random() < 0.5:
        jpeg = int(rng.integers(55, 95))
    if jpeg:
        buf = io.BytesIO()
        out.save(buf, 'JPEG', quality=int(jpeg))
        out = Image.open(io.BytesIO(buf.getvalue())).convert('RGB')
    return np.asarray(out, np.uint8), mask


def sample(seed: int, width: int = 640, height: int = 480, **kw):
    """One random image + mask, fully determined by seed."""
    rng = np.random.default_rng(seed)
    sc = random_scene(rng, width, height, **kw)
    return render(sc, width, height, u_off=0.0, noise_seed=0)
