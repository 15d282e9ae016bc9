"""A shot: the validated render plan, the render loop, keyframes, propagation along optical
flow, resume state and sidecars, the drift guard and progress reporting."""
