// Entry point of `bin/vnctl`: placeholder until the server issue lands.
process.stderr.write('vnctl: not implemented yet\n');
process.exit(3);
