"""Video sources, the capture thread and the bounded frame queue between capture and inference."""
