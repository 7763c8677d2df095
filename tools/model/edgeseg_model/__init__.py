"""EdgeSeg seed model family (PyTorch side): definitions, synthetic rope data, export."""
