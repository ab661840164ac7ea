"""`streamer filter`: an archive of recorded videos through the pipeline on Ray workers.

- `inputs`: the videos named by folders, globs and list files, each with its output folder.
- `index`: DIR/index.csv (and .parquet), one row per video, and what makes a video already done.
- `worker`: one video through the pipeline into a scratch folder renamed into place when complete;
  the Ray actor that keeps its engines loaded from video to video.
- `runner`: Ray set-up (local or a cluster), dispatch, retries, progress and Ctrl-C.
"""
