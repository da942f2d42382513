"""ØiR (FK-ØKO) messages: the debtor system's messages to TØK. No official schema is public:
every element here is ours (docs/kombit.md lists what is confirmed, public-impl and ours)."""
