"""adamatte: temporally stable alpha mattes for compositing, after AdaMatting (Cai et al., ICCV 2019)."""

__version__ = "0.1.0"
