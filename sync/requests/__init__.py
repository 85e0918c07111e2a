"""Request bodies the function accepts (events, manual and sweep requests) and OCID checks: plain data."""
