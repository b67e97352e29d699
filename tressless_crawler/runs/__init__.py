"""One crawl run's bookkeeping: its crawl_runs row, report, progress bar, failures, resumable
JOBDIR."""
