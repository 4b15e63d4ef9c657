int main(void) {
    printf("%d\n", █);
}
