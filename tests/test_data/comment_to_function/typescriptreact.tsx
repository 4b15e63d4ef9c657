import React from "react";

// A greeting for the given name, in bold.
export function Greeting({ name }: { name: string }) {
  █
}
