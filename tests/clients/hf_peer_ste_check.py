"""Checks the pieces of bench/hf_bitnet_train.py that keep its "compiled" peer an honest training step:
the detach-form straight-through estimators equal transformers' WeightQuant / ActQuant (values and
gradients, in eager PyTorch), and dead_gradients() finds a parameter left with a zero gradient.
Prints "ok" and exits 0, or raises."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))

import torch  # noqa: E402
import transformers.integrations.bitnet as bitnet  # noqa: E402

import hf_bitnet_train as peer  # noqa: E402

torch._dynamo.config.disable = True  # eager: transformers' own estimators run with their custom backward
torch.manual_seed(0)

for original, shape in ((bitnet.WeightQuant, (48, 32)), (bitnet.ActQuant, (5, 7, 32))):
    rewritten = peer.detach_form(original)
    x = torch.randn(shape, requires_grad=True)
    upstream = torch.randn(shape)
    a = original.apply(x)
    (ga,) = torch.autograd.grad(a, x, upstream)
    b = rewritten.apply(x)
    (gb,) = torch.autograd.grad(b, x, upstream)
    assert torch.equal(a, b), f"{original.__name__}: values differ by {(a - b).abs().max().item()}"
    assert torch.equal(ga, gb), f"{original.__name__}: gradients differ by {(ga - gb).abs().max().item()}"
    assert torch.equal(gb, upstream), f"{original.__name__}: not straight-through"
    assert not torch.equal(a, x.detach()), f"{original.__name__}: nothing was quantized"

# The context manager swaps the estimators AutoBitLinear looks up, and puts them back.
before = (bitnet.WeightQuant, bitnet.ActQuant)
with peer.detach_form_estimators():
    assert bitnet.WeightQuant is not before[0] and bitnet.ActQuant is not before[1]
assert (bitnet.WeightQuant, bitnet.ActQuant) == before

model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Linear(4, 2))
model(torch.randn(3, 4)).square().sum().backward()
assert peer.dead_gradients(model) == [], peer.dead_gradients(model)
model[0].bias.grad.zero_()
model[1].weight.grad = None
assert peer.dead_gradients(model) == ["0.bias", "1.weight"], peer.dead_gradients(model)
print("ok")
