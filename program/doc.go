// Package program is the executable shape of compiled SQL: statements and
// while-loops (repeat a body while a count query returns more than zero),
// shared by the compiler, the identity builder and the runner.
package program
