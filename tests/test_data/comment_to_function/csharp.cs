using System;

public static class Text
{
    // Reverse the characters of a string.
    public static string Reverse(string s)
    {
        █
    }
}
