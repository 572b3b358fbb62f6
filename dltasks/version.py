"""The version of dltasks (one place: the package, the server's OpenAPI spec and the client's User-Agent read it).

>>> __version__.count(".")
2
"""
__version__ = "0.1.0"
