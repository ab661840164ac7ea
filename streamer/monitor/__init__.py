"""The live monitor: a display path that never waits for the models, and a web page that shows it.

display: draws every captured frame with the newest results and encodes it as JPEG;
state: what the page shows (status figures, quality timeline), fed by the pipeline threads;
hub: the newest JPEG and the event stream, shared with any number of viewers without blocking;
server: the HTTP server (`/`, `/stream.mjpg`, `/status`, `/events`).
"""
