message = "hello █"
