"""The 公文 domain: vocabulary, reference numbers, lifecycle, 条例 rules and tables.

The pure modules here import nothing of ours outside this package and do no IO.
"""
