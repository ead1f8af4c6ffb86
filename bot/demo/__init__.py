"""The offline demo: fake GitHub with a synthetic world, the real pipeline, console digests."""
