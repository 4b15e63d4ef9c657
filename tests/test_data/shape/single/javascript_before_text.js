const x = █foo(1);
