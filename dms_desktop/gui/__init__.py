"""The Qt layer: a thin window over the core. Nothing here calls boto3 on the GUI thread."""
