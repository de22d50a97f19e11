"""Query understanding (pure): which city/school, what intent, and how a pasted message splits into questions."""
