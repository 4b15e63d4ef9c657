<?php

use App\Models\User;

// Format a price in cents as a string with two decimals.
function formatPrice(int $cents): string
{
    █
}
