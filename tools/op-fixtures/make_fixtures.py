#!/usr/bin/env python3
"""Exports the small operator graphs the compiler tests import, and ONNX Runtime's outputs for them.

Most graphs come from PyTorch's TorchScript exporter (dynamo=False, opset 17: what the model
spec's export uses). Forms PyTorch never emits (asymmetric Conv pads, auto_pad, opset-18 reduce
axes as inputs, standalone BatchNormalization, nearest/asymmetric Resize with scales) are built
with onnx.helper. Every fixture is run through onnxruntime (CPU, FP32) and its inputs/outputs are
stored as little-endian float32 so the Swift tests can compare without Python.

Usage: python3 tools/op-fixtures/make_fixtures.py   (rewrites tools/op-fixtures/data/*)
"""
import json, os, io, warnings
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F
import onnx
from onnx import helper, TensorProto, numpy_helper
import onnxruntime as ort

warnings.filterwarnings("ignore")
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(0)
rng = np.random.default_rng(0)
manifest = []


def save(name, model_bytes, inputs, argmax_axis=None, note=""):
    sess = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    feeds = {i.name: x for i, x in zip(sess.get_inputs(), inputs)}
    outs = sess.run(None, feeds)
    with open(os.path.join(OUT, name + ".onnx"), "wb") as f:
        f.write(model_bytes)
    with open(os.path.join(OUT, name + ".in.bin"), "wb") as f:
        for x in inputs: f.write(np.ascontiguousarray(x, dtype="<f4").tobytes())
    with open(os.path.join(OUT, name + ".out.bin"), "wb") as f:
        for y in outs: f.write(np.ascontiguousarray(y, dtype="<f4").tobytes())
    ops = sorted({n.op_type for n in onnx.load_from_string(model_bytes).graph.node})
    manifest.append({"name": name, "note": note, "onnxOps": ops,
                     "inputs": [list(x.shape) for x in inputs],
                     "outputs": [list(y.shape) for y in outs],
                     "argmaxAxis": argmax_axis})


def export_torch(name, module, *shapes, argmax_axis=None, note="", opset=17):
    module.eval()
    # Non-trivial BN statistics so folding is actually exercised.
    for m in module.modules():
        if isinstance(m, (nn.BatchNorm2d,)):
            with torch.no_grad():
                m.running_mean.uniform_(-0.5, 0.5); m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5); m.bias.uniform_(-0.3, 0.3)
    xs = [torch.randn(*s) for s in shapes]
    buf = io.BytesIO()
    torch.onnx.export(module, tuple(xs), buf, opset_version=opset, dynamo=False,
                      do_constant_folding=False)
    save(name, buf.getvalue(), [x.numpy() for x in xs], argmax_axis, note)


# ---------------------------------------------------------------- torch graphs
class ConvVariants(nn.Module):
    def __init__(s):
        super().__init__()
        s.stem = nn.Conv2d(3, 8, 3, 2, 1, bias=False)
        s.dw = nn.Conv2d(8, 8, 3, 1, 2, dilation=2, groups=8)
        s.grp = nn.Conv2d(8, 12, 3, 1, 1, groups=4)
        s.pw = nn.Conv2d(12, 6, 1)
        s.big = nn.Conv2d(6, 4, (5, 3), stride=(2, 1), padding=(2, 0))
    def forward(s, x):
        return s.big(F.relu(s.pw(s.grp(F.relu6(s.dw(s.stem(x)))))))


class InvertedResidual(nn.Module):
    def __init__(s, c, t, stride, dil=1):
        super().__init__()
        h = c * t
        s.res = stride == 1
        s.body = nn.Sequential(
            nn.Conv2d(c, h, 1, bias=False), nn.BatchNorm2d(h), nn.ReLU6(),
            nn.Conv2d(h, h, 3, stride, dil, dilation=dil, groups=h, bias=False), nn.BatchNorm2d(h), nn.ReLU6(),
            nn.Conv2d(h, c, 1, bias=False), nn.BatchNorm2d(c))
    def forward(s, x):
        return x + s.body(x) if s.res else s.body(x)


class MBV2Block(nn.Module):
    """Stem + two inverted residuals (one dilated) + 1x1 classifier + bilinear up: a tiny DeepLab."""
    def __init__(s):
        super().__init__()
        s.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU6())
        s.b1 = InvertedResidual(8, 4, 1)
        s.b2 = InvertedResidual(8, 4, 1, dil=2)
        s.cls = nn.Conv2d(8, 3, 1)
    def forward(s, x):
        y = s.cls(s.b2(s.b1(s.stem(x))))
        return F.interpolate(y, size=x.shape[2:], mode="bilinear", align_corners=False)


class Activations(nn.Module):
    def __init__(s):
        super().__init__()
        s.c1 = nn.Conv2d(4, 4, 3, 1, 1); s.c2 = nn.Conv2d(4, 4, 1); s.c3 = nn.Conv2d(4, 4, 1)
        s.c4 = nn.Conv2d(4, 4, 1)
    def forward(s, x):
        a = F.silu(s.c1(x))                         # Sigmoid+Mul → SiLU fusion
        b = F.hardswish(s.c2(a))
        c = torch.sigmoid(s.c3(b))
        d = F.hardsigmoid(s.c4(c) * 3)
        g = F.gelu(d - 0.5)                         # Erf-based GELU pattern
        return torch.tanh(g) + torch.exp(-g.abs()) + torch.sqrt(g.abs() + 1) + 1.0 / (g.abs() + 1) + g.pow(2) + torch.maximum(g, d) - torch.minimum(g, c)


class ResizeVariants(nn.Module):
    def forward(s, x):
        a = F.interpolate(x, size=(12, 10), mode="bilinear", align_corners=False)
        b = F.interpolate(x, size=(12, 10), mode="bilinear", align_corners=True)
        c = F.interpolate(x, scale_factor=2, mode="nearest")
        d = F.interpolate(x[:, :, :1, :1], size=(12, 10), mode="bilinear", align_corners=False)
        return torch.cat([a, b, c[:, :, :12, :10], d], 1)


class Attention(nn.Module):
    """The spec's MobileViT local attention, shrunk: unfold → LN → qkv (chunk) → rank-5 matmuls → softmax → fold."""
    def __init__(s, c=8, d=12, heads=2):
        super().__init__()
        s.h = heads; s.d = d
        s.proj_in = nn.Conv2d(c, d, 1, bias=False)
        s.ln = nn.LayerNorm(d); s.qkv = nn.Linear(d, 3 * d, bias=False); s.out = nn.Linear(d, d)
        s.ln2 = nn.LayerNorm(d); s.ff1 = nn.Linear(d, 2 * d); s.ff2 = nn.Linear(2 * d, d)
        s.proj_out = nn.Conv2d(d, c, 1)
    def forward(s, x):
        b, _, H, W = x.shape
        y = s.proj_in(x)
        y = y.reshape(b, s.d, H // 2, 2, W // 2, 2).permute(0, 2, 4, 3, 5, 1).reshape(b, (H // 2) * (W // 2), 4, s.d)
        t = s.ln(y)
        q, k, v = s.qkv(t).chunk(3, dim=-1)
        sh = lambda z: z.reshape(b, -1, 4, s.h, s.d // s.h).permute(0, 1, 3, 2, 4)
        q, k, v = sh(q), sh(k), sh(v)
        a = torch.softmax((q @ k.transpose(-1, -2)) * (s.d // s.h) ** -0.5, dim=-1)
        o = (a @ v).permute(0, 1, 3, 2, 4).reshape(b, -1, 4, s.d)
        y = y + s.out(o)
        y = y + s.ff2(F.silu(s.ff1(s.ln2(y))))
        y = y.reshape(b, H // 2, W // 2, 2, 2, s.d).permute(0, 5, 1, 3, 2, 4).reshape(b, s.d, H, W)
        return s.proj_out(y)


class GGCA(nn.Module):
    def __init__(s, c=16, g=4):
        super().__init__()
        s.g = g; gc = c // g; mid = max(1, gc // 2)
        s.shared = nn.Sequential(nn.Conv2d(gc, mid, 1), nn.BatchNorm2d(mid), nn.ReLU(), nn.Conv2d(mid, gc, 1))
    def forward(s, x):
        B, C, H, W = x.shape
        xg = x.view(B, s.g, C // s.g, H, W); x2 = xg.view(B * s.g, C // s.g, H, W)
        ha, hm = x2.mean(dim=3, keepdim=True), x2.max(dim=3, keepdim=True)[0]
        wa, wm = x2.mean(dim=2, keepdim=True), x2.max(dim=2, keepdim=True)[0]
        ah = torch.sigmoid(s.shared(ha) + s.shared(hm)); aw = torch.sigmoid(s.shared(wa) + s.shared(wm))
        return (xg * ah.view(B, s.g, C // s.g, H, 1) * aw.view(B, s.g, C // s.g, 1, W)).view(B, C, H, W)


class Pooling(nn.Module):
    def __init__(s):
        super().__init__()
        s.fc = nn.Linear(6, 5)
        s.norm = nn.GroupNorm(1, 6)
    def forward(s, x):
        a = F.max_pool2d(x, 3, 2, 1)
        b = F.avg_pool2d(x, 2, 2)
        c = F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False)
        g = F.adaptive_avg_pool2d(x, 1) + F.adaptive_max_pool2d(x, 1)        # GAP + MaxPool(kernel=H)
        gate = torch.sigmoid(s.fc(g.flatten(1)))                               # Gemm transB
        cm = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True), x.amin(1, keepdim=True)], 1) * x.sum((2, 3), keepdim=True)[:, :3] / 64
        n = s.norm(x)
        return a.flatten(1).sum(1, keepdim=True) * 0 + torch.cat([b.flatten(1), c.flatten(1), gate, cm.flatten(1), n.flatten(1)], 1)


class Plumbing(nn.Module):
    """Shape-dependent code that the legacy exporter turns into Shape/Gather/Unsqueeze/Concat chains."""
    def forward(s, x):
        b, c, h, w = x.shape
        y = x.flatten(2).transpose(1, 2)                 # (b, hw, c)
        y = torch.softmax(y, dim=-1)
        y = y.transpose(1, 2).reshape(b, c, h, w)
        parts = torch.split(y, [2, 4], dim=1)
        z = torch.cat([parts[1], parts[0]], 1)
        z = F.pad(z, (1, 2, 0, 1), value=0.25)
        z = z[:, :, 1:, ::2]
        e = torch.nn.functional.instance_norm(x)
        return z.squeeze(0).unsqueeze(0), e.mean((2, 3))


class WindowAttentionBits(nn.Module):
    """WA-ASPP/WAFA pieces: qkv Gather on axis 0 of a dynamic tensor, Expand, element-wise Max, rank-6 window transposes."""
    def __init__(s, c=8):
        super().__init__()
        s.qkv = nn.Linear(c, 3 * c); s.fc = nn.Conv2d(c, 1, 1, bias=False)
    def forward(s, x):
        B, C, H, W = x.shape
        win = x.view(B, C, H // 2, 2, W // 2, 2).permute(0, 2, 4, 1, 3, 5).reshape(-1, C, 2, 2)
        t = win.reshape(-1, C, 4).permute(0, 2, 1)
        qkv = s.qkv(t).reshape(t.shape[0], 4, 3, 2, C // 2).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        a = torch.softmax(q @ k.transpose(-2, -1) / (C // 2) ** 0.5, -1)
        o = (a @ v).permute(0, 2, 1, 3).reshape(t.shape[0], 4, C).permute(0, 2, 1)
        o = o.reshape(B, H // 2, W // 2, C, 2, 2).permute(0, 3, 1, 4, 2, 5).reshape(B, C, H, W)
        g = F.relu(s.fc(F.adaptive_avg_pool2d(o, 1))).expand(-1, -1, H, W)
        sp = torch.sigmoid(s.fc(o))
        return torch.max(g, sp) * o + F.interpolate(o[:, :, ::2, ::2], scale_factor=2, mode="nearest")


export_torch("conv_variants", ConvVariants(), (1, 3, 17, 15), note="stride/dilation/group/depthwise/rect kernels")
export_torch("mbv2_block", MBV2Block(), (1, 3, 32, 32), argmax_axis=1, note="BN folded by exporter, ReLU6 Clip, residual Add, bilinear")
export_torch("activations", Activations(), (1, 4, 6, 6), note="SiLU/HardSwish/Sigmoid/HardSigmoid/GELU + unary/binary ops")
export_torch("resize_variants", ResizeVariants(), (1, 3, 6, 5), note="bilinear half_pixel/align_corners, nearest scales, 1x1 broadcast")
export_torch("attention", Attention(), (1, 8, 8, 8), note="rank-6 transposes, rank-5 matmul, LayerNorm, Softmax, Slice chunk")
export_torch("ggca", GGCA(), (1, 16, 6, 7), note="GGCA: group fold, Reduce on axes, BN unfolded after shared conv, broadcast Mul")
export_torch("pooling", Pooling(), (1, 6, 8, 8), note="MaxPool/AveragePool/GAP/Gemm/reductions/GroupNorm→InstanceNorm")
export_torch("plumbing", Plumbing(), (1, 6, 5, 4), note="Shape/Gather/Concat plumbing, Split, Pad, Slice with steps, Squeeze/Unsqueeze")

# bubbliiiing's own export_onnx.py uses opset 12: attribute-form Squeeze/Unsqueeze/Split/Reduce axes,
# LayerNorm decomposed into ReduceMean/Sub/Pow/Sqrt/Div, Softmax with opset-12 axis semantics.
export_torch("attention_op12", Attention(), (1, 8, 8, 8), note="opset 12: decomposed LayerNorm, attr-form axes", opset=12)
export_torch("ggca_op12", GGCA(), (1, 16, 6, 7), note="opset 12 GGCA", opset=12)
export_torch("plumbing_op12", Plumbing(), (1, 6, 5, 4), note="opset 12 plumbing (Split attr, Squeeze attr)", opset=12)
export_torch("window_attention", WindowAttentionBits(), (1, 8, 4, 6), note="Gather on dynamic qkv, Expand, Max, window transposes, nearest up")

# ---------------------------------------------------------------- onnx.helper graphs
def f32(shape): return (rng.standard_normal(shape)).astype(np.float32)
def init(name, arr): return numpy_helper.from_array(np.asarray(arr), name)


def helper_model(name, nodes, inputs, outputs, inits, opset=18, note=""):
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
                          [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="edgeseg-fixtures")
    m.ir_version = 8
    # No checker: outputs deliberately carry no shape (the importer infers every shape itself).
    save(name, m.SerializeToString(), [f32(s) for _, s in inputs], note=note)


# Conv forms PyTorch does not emit: asymmetric pads, auto_pad SAME_UPPER/SAME_LOWER, standalone BN.
helper_model("conv_pads", [
    helper.make_node("Conv", ["x", "w1"], ["a"], pads=[0, 1, 2, 1], strides=[2, 1]),
    helper.make_node("Conv", ["a", "w2", "b2"], ["b"], auto_pad="SAME_UPPER", strides=[2, 2]),
    helper.make_node("Conv", ["b", "w3"], ["c"], auto_pad="SAME_LOWER", kernel_shape=[2, 2]),
    helper.make_node("BatchNormalization", ["c", "s", "bb", "m", "v"], ["d"], epsilon=1e-3),
    helper.make_node("Add", ["d", "c"], ["e"]),
    helper.make_node("BatchNormalization", ["e", "s", "bb", "m", "v"], ["y"]),
], [("x", [1, 3, 9, 8])], ["y"], [
    init("w1", f32([4, 3, 3, 3])), init("w2", f32([5, 4, 3, 3])), init("b2", f32([5])), init("w3", f32([5, 5, 2, 2])),
    init("s", rng.uniform(0.5, 1.5, 5).astype(np.float32)), init("bb", f32([5])),
    init("m", f32([5])), init("v", rng.uniform(0.5, 2, 5).astype(np.float32))], note="asymmetric pads, auto_pad, standalone BN")

# Opset-18 reduce forms (axes as inputs), Clip by attribute at opset 6 is covered below.
helper_model("reduce_op18", [
    helper.make_node("ReduceMean", ["x", "ax1"], ["a"], keepdims=1),
    helper.make_node("ReduceMax", ["x", "ax2"], ["b"], keepdims=0),
    helper.make_node("ReduceSum", ["x", "ax3"], ["c"], keepdims=1),
    helper.make_node("ReduceMin", ["x"], ["d"], keepdims=1),
    helper.make_node("Split", ["x"], ["s0", "s1"], axis=1, num_outputs=2),
    helper.make_node("Mul", ["s0", "s1"], ["e"]),
    helper.make_node("Resize", ["x", "", "scales"], ["r"], mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
    helper.make_node("Resize", ["x", "", "", "sizes"], ["r2"], mode="linear", coordinate_transformation_mode="pytorch_half_pixel"),
], [("x", [1, 4, 5, 6])], ["a", "b", "c", "d", "e", "r", "r2"], [
    init("ax1", np.array([1, -1], np.int64)), init("ax2", np.array([2], np.int64)), init("ax3", np.array([-3, 3], np.int64)),
    init("scales", np.array([1, 1, 2, 1.5], np.float32)), init("sizes", np.array([1, 4, 7, 3], np.int64))],
    note="opset-18 reduce axes inputs, Split num_outputs, Resize nearest asymmetric / pytorch_half_pixel")

helper_model("gemm_matmul", [
    helper.make_node("MatMul", ["x", "w"], ["a"]),
    helper.make_node("Gemm", ["f", "g", "c"], ["b"], transA=1, alpha=0.5, beta=2.0),
    helper.make_node("Clip", ["b"], ["bc"], min=-0.5, max=0.5) if False else helper.make_node("Clip", ["b", "lo", "hi"], ["bc"]),
    helper.make_node("MatMul", ["p", "q"], ["d"]),
    helper.make_node("Transpose", ["d"], ["t"], perm=[0, 2, 1, 3]),
], [("x", [2, 3, 4, 5]), ("f", [6, 3]), ("p", [2, 1, 3, 4]), ("q", [3, 4, 2])], ["a", "bc", "t"], [
    init("w", f32([5, 7])), init("g", f32([6, 4])), init("c", f32([1, 4])),
    init("lo", np.array(-0.5, np.float32)), init("hi", np.array(0.5, np.float32))],
    note="MatMul broadcast, Gemm transA alpha beta, Clip input form, Transpose")

helper_model("resize_nearest", [
    helper.make_node("Resize", ["x", "", "", "s1"], ["a"], mode="nearest", coordinate_transformation_mode="half_pixel"),
    helper.make_node("Resize", ["x", "", "", "s2"], ["b"], mode="nearest", coordinate_transformation_mode="align_corners", nearest_mode="ceil"),
    helper.make_node("Resize", ["x", "", "", "s1"], ["c"], mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="round_prefer_ceil"),
], [("x", [1, 2, 5, 4])], ["a", "b", "c"], [
    init("s1", np.array([1, 2, 8, 7], np.int64)), init("s2", np.array([1, 2, 3, 9], np.int64))],
    note="Resize nearest: round_prefer_floor/half_pixel, ceil/align_corners, round_prefer_ceil/asymmetric")

with open(os.path.join(OUT, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=1)
total = sum(os.path.getsize(os.path.join(OUT, p)) for p in os.listdir(OUT))
print(f"{len(manifest)} fixtures, {total} bytes")
