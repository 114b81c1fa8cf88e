// Loops forever: its statement limit or its timeout stops it.
while (true) {}
