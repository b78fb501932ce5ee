"""YOLOv5 in plain PyTorch: safe checkpoint loading, the network, pre- and post-processing."""
