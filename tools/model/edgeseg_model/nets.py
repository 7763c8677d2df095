"""The seed model family (shared/model-spec.md), rebuilt in PyTorch.

Every module mirrors the seed code's structure (bubbliiiing DeepLabV3+ + GGCA MobileNetV2 +
ShallowFusionLite/CBAM + AG_ASPP_MViT) so that the parameter counts and the exported ONNX graphs
match the spec. Widths are parameters so that the pruned config (channel counts that are not
multiples of 8, as real L1 channel pruning produces) is the same code.
"""
from __future__ import annotations

from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F


# --------------------------------------------------------------------------- GGCA (spec §1.5)
class GGCA(nn.Module):
    """GGCA_Fused: grouped coordinate attention with merged pooling; groups folded into batch."""

    def __init__(self, channel: int, reduction: int = 16, num_groups: int = 4):
        super().__init__()
        assert channel % num_groups == 0
        self.num_groups = num_groups
        self.group_channels = channel // num_groups
        mid = max(1, self.group_channels // reduction)
        gc = self.group_channels
        self.shared_conv = nn.Sequential(
            nn.Conv2d(gc, mid, 1, bias=True), nn.BatchNorm2d(mid), nn.ReLU(inplace=True),
            nn.Conv2d(mid, gc, 1, bias=True))
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        b, c, h, w = x.shape
        g, gc = self.num_groups, self.group_channels
        xg = x.view(b, g, gc, h, w)
        x2 = xg.view(b * g, gc, h, w)
        h_avg = x2.mean(dim=3, keepdim=True)
        h_max = x2.max(dim=3, keepdim=True)[0]
        w_avg = x2.mean(dim=2, keepdim=True)
        w_max = x2.max(dim=2, keepdim=True)[0]
        att_h = self.sigmoid(self.shared_conv(h_avg) + self.shared_conv(h_max))
        att_w = self.sigmoid(self.shared_conv(w_avg) + self.shared_conv(w_max))
        out = xg * att_h.view(b, g, gc, h, 1) * att_w.view(b, g, gc, 1, w)
        return out.view(b, c, h, w)


# --------------------------------------------------------------------------- MobileNetV2 (§1.4)
def conv_bn(inp, oup, stride):
    return nn.Sequential(nn.Conv2d(inp, oup, 3, stride, 1, bias=False), nn.BatchNorm2d(oup),
                         nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, expand_ratio, use_ggca=False, hidden=None):
        super().__init__()
        self.stride = stride
        hidden_dim = round(inp * expand_ratio) if hidden is None else hidden
        self.use_res_connect = stride == 1 and inp == oup
        if expand_ratio == 1:
            layers = [nn.Conv2d(hidden_dim, hidden_dim, 3, stride, 1, groups=hidden_dim, bias=False),
                      nn.BatchNorm2d(hidden_dim), nn.ReLU6(inplace=True)]
        else:
            layers = [nn.Conv2d(inp, hidden_dim, 1, 1, 0, bias=False), nn.BatchNorm2d(hidden_dim),
                      nn.ReLU6(inplace=True),
                      nn.Conv2d(hidden_dim, hidden_dim, 3, stride, 1, groups=hidden_dim, bias=False),
                      nn.BatchNorm2d(hidden_dim), nn.ReLU6(inplace=True)]
        if use_ggca:
            layers.append(GGCA(hidden_dim, reduction=16, num_groups=4))
        layers += [nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


SETTING = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2],
           [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]


def _nostride_dilate(m, dilate):
    # bubbliiiing's rule, applied by class name: 1x1 convs (GGCA's included) are untouched.
    if m.__class__.__name__.find('Conv') != -1:
        if m.stride == (2, 2):
            m.stride = (1, 1)
            if m.kernel_size == (3, 3):
                m.dilation = (dilate // 2, dilate // 2)
                m.padding = (dilate // 2, dilate // 2)
        elif m.kernel_size == (3, 3):
            m.dilation = (dilate, dilate)
            m.padding = (dilate, dilate)


class MobileNetV2Features(nn.Module):
    """features[0:18] of bubbliiiing's MobileNetV2 (features[18] and the classifier dropped).

    ggca: None (baseline) or 'final' (deep blocks only, §1.5).
    hidden: optional {block_index: hidden width} for pruned expansion widths.
    """

    def __init__(self, downsample_factor=16, ggca=None, hidden=None):
        super().__init__()
        hidden = hidden or {}
        feats = [conv_bn(3, 32, 2)]
        inp = 32
        for idx, (t, c, n, s) in enumerate(SETTING):
            for i in range(n):
                stride = s if i == 0 else 1
                use = ggca == 'final' and idx >= 4 and stride != 2
                feats.append(InvertedResidual(inp, c, stride, t, use_ggca=use,
                                              hidden=hidden.get(len(feats))))
                inp = c
        self.features = nn.Sequential(*feats)
        total, down_idx = len(self.features), [2, 4, 7, 14]
        if downsample_factor == 8:
            for i in range(down_idx[-2], down_idx[-1]):
                self.features[i].apply(partial(_nostride_dilate, dilate=2))
            for i in range(down_idx[-1], total):
                self.features[i].apply(partial(_nostride_dilate, dilate=4))
        elif downsample_factor == 16:
            for i in range(down_idx[-1], total):
                self.features[i].apply(partial(_nostride_dilate, dilate=2))
        else:
            raise ValueError('downsample_factor must be 8 or 16')


# --------------------------------------------------------------------------- ShallowFusionLite + CBAM (§1.6)
class ChannelAttention(nn.Module):
    def __init__(self, channels, reduction=16):
        super().__init__()
        mid = max(1, channels // reduction)
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.max_pool = nn.AdaptiveMaxPool2d(1)
        self.mlp = nn.Sequential(nn.Conv2d(channels, mid, 1, bias=False), nn.ReLU(inplace=True),
                                 nn.Conv2d(mid, channels, 1, bias=False))
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        return self.sigmoid(self.mlp(self.avg_pool(x)) + self.mlp(self.max_pool(x)))


class SpatialAttention(nn.Module):
    def __init__(self, kernel_size=7):
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        avg = torch.mean(x, dim=1, keepdim=True)
        mx, _ = torch.max(x, dim=1, keepdim=True)
        return self.sigmoid(self.conv(torch.cat([avg, mx], dim=1)))


class CBAM(nn.Module):
    def __init__(self, channels, reduction=16, kernel_size=7):
        super().__init__()
        self.ca = ChannelAttention(channels, reduction)
        self.sa = SpatialAttention(kernel_size)

    def forward(self, x):
        x = x * self.ca(x)
        return x * self.sa(x)


class DWSep(nn.Module):
    def __init__(self, inp, oup):
        super().__init__()
        self.dw = nn.Conv2d(inp, inp, 3, 1, 1, groups=inp, bias=False)
        self.pw = nn.Conv2d(inp, oup, 1, bias=False)
        self.bn = nn.BatchNorm2d(oup)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.bn(self.pw(self.dw(x))))


class ShallowFusionLite(nn.Module):
    def __init__(self, in_channels1=24, in_channels2=32, reduced_channels=24, out_channels=56,
                 dropout=0.2):
        super().__init__()
        self.reduce_f1 = nn.Conv2d(in_channels1, reduced_channels, 1, bias=False)
        self.reduce_f2 = nn.Conv2d(in_channels2, reduced_channels, 1, bias=False)
        self.conv1 = DWSep(reduced_channels, reduced_channels)
        self.conv2 = DWSep(reduced_channels, reduced_channels)
        self.fuse_conv = nn.Sequential(DWSep(reduced_channels * 2, out_channels), nn.Dropout(dropout))
        self.attn = CBAM(out_channels, reduction=16, kernel_size=7)

    def forward(self, f1, f2):
        a = self.conv1(self.reduce_f1(f1))
        b = self.conv2(self.reduce_f2(f2))
        b = F.interpolate(b, size=a.shape[2:], mode='bilinear', align_corners=False)
        return self.attn(self.fuse_conv(torch.cat([a, b], dim=1)))


# --------------------------------------------------------------------------- MSA-ASPP (§1.7)
class PreNorm(nn.Module):
    def __init__(self, dim, fn):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fn = fn

    def forward(self, x):
        return self.fn(self.norm(x))


class FeedForward(nn.Module):
    def __init__(self, dim, hidden_dim, dropout=0.0):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden_dim), nn.SiLU(), nn.Dropout(dropout),
                                 nn.Linear(hidden_dim, dim), nn.Dropout(dropout))

    def forward(self, x):
        return self.net(x)


class Attention(nn.Module):
    """Multi-head attention over the pixels of one patch: x is (B, P, N, D)."""

    def __init__(self, dim, heads, dim_head, dropout=0.0):
        super().__init__()
        inner = heads * dim_head
        self.heads, self.dim_head = heads, dim_head
        self.scale = dim_head ** -0.5
        self.to_qkv = nn.Linear(dim, inner * 3, bias=False)
        self.to_out = nn.Sequential(nn.Linear(inner, dim), nn.Dropout(dropout))

    def forward(self, x):
        b, p, n, _ = x.shape
        q, k, v = self.to_qkv(x).chunk(3, dim=-1)
        q, k, v = (t.reshape(b, p, n, self.heads, self.dim_head).permute(0, 1, 3, 2, 4)
                   for t in (q, k, v))
        attn = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * self.scale, dim=-1)
        out = torch.matmul(attn, v).permute(0, 1, 3, 2, 4).reshape(b, p, n, self.heads * self.dim_head)
        return self.to_out(out)


class Transformer(nn.Module):
    def __init__(self, dim, depth, heads, dim_head, mlp_dim, dropout=0.0):
        super().__init__()
        self.layers = nn.ModuleList([
            nn.ModuleList([PreNorm(dim, Attention(dim, heads, dim_head, dropout)),
                           PreNorm(dim, FeedForward(dim, mlp_dim, dropout))])
            for _ in range(depth)])

    def forward(self, x):
        for attn, ff in self.layers:
            x = attn(x) + x
            x = ff(x) + x
        return x


def conv_bn_silu(inp, oup, k):
    return nn.Sequential(nn.Conv2d(inp, oup, k, 1, k // 2, bias=False), nn.BatchNorm2d(oup), nn.SiLU())


class MobileViTAttentionBlock(nn.Module):
    """Seed's MobileViT block: attention over the 4 pixels of each 2x2 patch (local, not global).

    mid/out widths default to the input width (the final model); the pruned config shrinks them.
    """

    def __init__(self, in_channels, patch_size=(2, 2), depth=1, dim=96, mlp_dim=192, heads=2,
                 dropout=0.0, mid_channels=None, out_channels=None):
        super().__init__()
        mid = mid_channels or in_channels
        out = out_channels or in_channels
        self.ph, self.pw = patch_size
        self.local_conv1 = conv_bn_silu(in_channels, mid, 3)
        self.conv_proj_in = conv_bn_silu(mid, dim, 1)
        self.transformer = Transformer(dim, depth, heads, dim // heads, mlp_dim, dropout)
        self.conv_proj_out = conv_bn_silu(dim, mid, 1)
        self.local_conv2 = conv_bn_silu(mid + in_channels, out, 3)

    def forward(self, x):
        y = x.clone()
        x = self.conv_proj_in(self.local_conv1(x))
        b, d, h, w = x.shape
        hh, ww = h // self.ph, w // self.pw
        # 'b d (hh ph) (ww pw) -> b (hh ww) (ph pw) d'
        x = x.reshape(b, d, hh, self.ph, ww, self.pw).permute(0, 2, 4, 3, 5, 1)
        x = x.reshape(b, hh * ww, self.ph * self.pw, d)
        x = self.transformer(x)
        # 'b (hh ww) (ph pw) d -> b d (hh ph) (ww pw)'
        x = x.reshape(b, hh, ww, self.ph, self.pw, d).permute(0, 5, 1, 3, 2, 4)
        x = x.reshape(b, d, hh * self.ph, ww * self.pw)
        x = self.conv_proj_out(x)
        return self.local_conv2(torch.cat([x, y], dim=1))


class AttnGate(nn.Module):
    def __init__(self, channels, reduction=16):
        super().__init__()
        mid = max(1, channels // reduction)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(nn.Linear(channels, mid), nn.ReLU(inplace=True),
                                nn.Linear(mid, channels), nn.Sigmoid())

    def forward(self, x):
        b, c = x.shape[0], x.shape[1]
        y = self.fc(self.pool(x).view(b, c)).view(b, c, 1, 1)
        return x * y


class AG_ASPP_MViT(nn.Module):
    def __init__(self, dim_in=320, dim_out=256, patch_size=(2, 2), mvit_depth=1, mvit_dim=96,
                 mvit_mlp_dim=192, mvit_heads=2, mvit_dropout=0.0, use_groupnorm=True,
                 mvit_mid=None, mvit_out=None):
        super().__init__()
        mvit_out_ch = mvit_out or dim_in
        self.branch1 = nn.Sequential(nn.Conv2d(dim_in, dim_out, 1, bias=True), nn.BatchNorm2d(dim_out),
                                     nn.ReLU(inplace=True))
        mk = partial(MobileViTAttentionBlock, dim_in, patch_size, mvit_depth, mvit_dim, mvit_mlp_dim,
                     mvit_heads, mvit_dropout, mvit_mid, mvit_out)
        self.branch2, self.branch3, self.branch4 = mk(), mk(), mk()
        self.branch2_proj = nn.Conv2d(mvit_out_ch, dim_out, 1, bias=False)
        self.branch3_proj = nn.Conv2d(mvit_out_ch, dim_out, 1, bias=False)
        self.branch4_proj = nn.Conv2d(mvit_out_ch, dim_out, 1, bias=False)
        self.gate2, self.gate3, self.gate4 = AttnGate(dim_out), AttnGate(dim_out), AttnGate(dim_out)
        self.branch5_conv = nn.Conv2d(dim_in, dim_out, 1, bias=True)
        # BatchNorm (then InstanceNorm) crashed at batch 1 on the 1x1 map in the seed; hence GroupNorm.
        self.branch5_norm = nn.GroupNorm(1, dim_out) if use_groupnorm else nn.BatchNorm2d(dim_out)
        self.branch5_relu = nn.ReLU(inplace=True)
        self.fuse = nn.Sequential(nn.Conv2d(dim_out * 5, dim_out, 1, bias=True), nn.BatchNorm2d(dim_out),
                                  nn.ReLU(inplace=True))

    def forward(self, x):
        h, w = x.shape[2], x.shape[3]
        o1 = self.branch1(x)
        o2 = self.gate2(self.branch2_proj(self.branch2(x)))
        o3 = self.gate3(self.branch3_proj(self.branch3(x)))
        o4 = self.gate4(self.branch4_proj(self.branch4(x)))
        gp = F.adaptive_avg_pool2d(x, 1)
        gp = self.branch5_relu(self.branch5_norm(self.branch5_conv(gp)))
        gp = F.interpolate(gp, size=(h, w), mode='bilinear', align_corners=False)
        return self.fuse(torch.cat([o1, o2, o3, o4, gp], dim=1))


# --------------------------------------------------------------------------- standard ASPP (§1.9)
class ASPP(nn.Module):
    def __init__(self, dim_in, dim_out, rate=1, bn_mom=0.1):
        super().__init__()

        def br(k, d):
            return nn.Sequential(nn.Conv2d(dim_in, dim_out, k, 1, padding=0 if k == 1 else d,
                                           dilation=d, bias=True),
                                 nn.BatchNorm2d(dim_out, momentum=bn_mom), nn.ReLU(inplace=True))
        self.branch1 = br(1, rate)
        self.branch2, self.branch3, self.branch4 = br(3, 6 * rate), br(3, 12 * rate), br(3, 18 * rate)
        self.branch5_conv = nn.Conv2d(dim_in, dim_out, 1, 1, 0, bias=True)
        self.branch5_bn = nn.BatchNorm2d(dim_out, momentum=bn_mom)
        self.branch5_relu = nn.ReLU(inplace=True)
        self.conv_cat = nn.Sequential(nn.Conv2d(dim_out * 5, dim_out, 1, 1, padding=0, bias=True),
                                      nn.BatchNorm2d(dim_out, momentum=bn_mom), nn.ReLU(inplace=True))

    def forward(self, x):
        row, col = x.shape[2], x.shape[3]
        g = torch.mean(torch.mean(x, 2, True), 3, True)
        g = self.branch5_relu(self.branch5_bn(self.branch5_conv(g)))
        g = F.interpolate(g, (row, col), None, 'bilinear', True)
        cat = torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x), g], dim=1)
        return self.conv_cat(cat)


# --------------------------------------------------------------------------- DeepLabV3+ (§1.3)
class DeepLab(nn.Module):
    """One class for the baseline, the final V10 model and the pruned config (see configs.py)."""

    def __init__(self, num_classes=3, downsample_factor=16, ggca=None, shallow_fusion=None,
                 aspp='standard', aspp_out=256, mvit=None, shortcut=48, decoder=(256, 256),
                 align_corners=True, hidden=None):
        super().__init__()
        self.align_corners = align_corners
        self.backbone = MobileNetV2Features(downsample_factor, ggca=ggca, hidden=hidden)
        if shallow_fusion is not None:
            self.sf = ShallowFusionLite(**shallow_fusion)
            low_ch = shallow_fusion['out_channels']
        else:
            self.sf = None
            low_ch = 24
        if aspp == 'standard':
            self.aspp = ASPP(320, aspp_out, rate=16 // downsample_factor)
        elif aspp == 'mvit':
            self.aspp = AG_ASPP_MViT(320, aspp_out, **(mvit or {}))
        else:
            raise ValueError(aspp)
        self.shortcut_conv = nn.Sequential(nn.Conv2d(low_ch, shortcut, 1), nn.BatchNorm2d(shortcut),
                                           nn.ReLU(inplace=True))
        d1, d2 = decoder
        self.cat_conv = nn.Sequential(
            nn.Conv2d(shortcut + aspp_out, d1, 3, stride=1, padding=1), nn.BatchNorm2d(d1),
            nn.ReLU(inplace=True), nn.Dropout(0.5),
            nn.Conv2d(d1, d2, 3, stride=1, padding=1), nn.BatchNorm2d(d2), nn.ReLU(inplace=True),
            nn.Dropout(0.1))
        self.cls_conv = nn.Conv2d(d2, num_classes, 1, stride=1)

    def forward(self, x):
        h, w = x.shape[2], x.shape[3]
        f = self.backbone.features
        f1 = f[:4](x)
        if self.sf is not None:
            f2 = f[4:7](f1)
            deep = f[7:](f2)
            low = self.sf(f1, f2)
        else:
            deep = f[4:](f1)
            low = f1
        x = self.aspp(deep)
        low = self.shortcut_conv(low)
        x = F.interpolate(x, size=(low.shape[2], low.shape[3]), mode='bilinear',
                          align_corners=self.align_corners)
        x = self.cls_conv(self.cat_conv(torch.cat((x, low), dim=1)))
        return F.interpolate(x, size=(h, w), mode='bilinear', align_corners=self.align_corners)
