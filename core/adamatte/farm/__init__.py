"""Farm job export: chunked `adamatte render` jobs for Open Job Description and OpenCue."""
