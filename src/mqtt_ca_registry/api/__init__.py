"""What every REST router shares: problem details, request ids, limits, pagination."""
