class A
{
    int Twice(int x)
    {
        █
    }
}
