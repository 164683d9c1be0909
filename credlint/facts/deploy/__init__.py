"""Facts of deployment files: agents, the environment they set, secrets typed into them."""
