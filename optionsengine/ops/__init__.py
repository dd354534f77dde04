"""Server-rendered operator pages (SPEC §13): the pipeline monitor and the signal trace. Staff
login (admin session); templates under templates/ops/."""
