/* tiny: the smallest dynamically linked program, exec'd by spawn to measure the cost of a process start. */
int main(void) { return 0; }
