"""Loading ground truth and predictions into columnar tables."""
