# devtools: helpers for developing mod_carinfo from this tree (not installed).
