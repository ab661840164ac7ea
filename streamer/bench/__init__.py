"""`streamer bench`: latency per stage and end to end, throughput and drops of the real pipeline."""
