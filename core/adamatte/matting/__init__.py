"""One frame: the matting engine, the refinement band and solvers, clean foreground, the still
command, and every trimap / label encoding (matting.trimap)."""
