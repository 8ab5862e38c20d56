"""Streamlit's own texts in the reader's language, where Streamlit lets them be set.

Streamlit 1.67 draws a few texts of its own: the placeholder of a selectbox ("Choose an
option", "Select…") and of a multiselect ("Choose options", "No options to select"), the
"Select all" entry of a multiselect's list, and "None" for an empty cell of a table. Each has
a documented parameter (`placeholder=`, `select_all=`); rather than repeat it at every one of
the app's widgets, `install()` makes the reader's text the default of these widgets, once per
process — a call that passes its own value keeps it. The file uploader's "Upload" and "20MB
per file" have no parameter at all: beside each uploader a style sheet shows ours in their
place (`uploader_css`; the limit is the uploader's own, kesu's setting). Texts Streamlit
gives no way to set are listed in docs/translations.md ("Streamlit's own texts").
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Sized
from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from ui.context import lang, tr

EMPTY_CELL = "—"
_INSTALLED = "_kesu_builtin_texts"


def _options_empty(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    options = kwargs.get("options", args[1] if len(args) > 1 else None)
    return isinstance(options, Sized) and len(options) == 0


def _selectbox(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def selectbox(self: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("placeholder") is None:
            kwargs["placeholder"] = tr("widget.no_options" if _options_empty(args, kwargs)
                                       else "widget.choose")
        return fn(self, *args, **kwargs)
    return selectbox


def _multiselect(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def multiselect(self: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("placeholder") is None:
            kwargs["placeholder"] = tr("widget.no_options" if _options_empty(args, kwargs)
                                       else "widget.choose_many")
        # "Select all" cannot be translated: in any other language the list goes without it
        if "select_all" not in kwargs and lang() != "en":
            kwargs["select_all"] = False
        return fn(self, *args, **kwargs)
    return multiselect


def _table(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def table(self: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("placeholder") is None:
            kwargs["placeholder"] = EMPTY_CELL  # not Streamlit's "None"
        return fn(self, *args, **kwargs)
    return table


def _css_text(text: str) -> str:
    """A CSS string literal holding `text` (quotes, backslashes and "<" escaped)."""
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3C ")
    return '"' + " ".join(out.split()) + '"'


def uploader_css(upload: str, limit: str) -> str:
    """The file uploader's button label and its line under it ("200MB per file • PDF") have
    no parameter: a style sheet shows ours in their place. It relies on the uploader's test
    ids (stFileUploaderDropzone, stFileUploaderDropzoneInstructions) — checked by
    tests/app/test_builtin_texts.py and the browser test of the uploader."""
    button = '[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p'
    hint = '[data-testid="stFileUploaderDropzoneInstructions"] span'
    return (f"<style>{button}, {hint} {{font-size: 0}}"
            f" {button}::after {{content: {_css_text(upload)}; font-size: 0.875rem}}"
            f" {hint}::after {{content: {_css_text(limit)}; font-size: 0.875rem}}</style>")


def _file_uploader(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def file_uploader(self: Any, *args: Any, **kwargs: Any) -> Any:
        if lang() != "en":  # the style sheet sits beside the uploader, in the reader's words
            mb = kwargs.get("max_upload_size") or st.get_option("server.maxUploadSize")
            st.html(uploader_css(tr("widget.upload"), tr("widget.upload_limit", mb=mb)))
        return fn(self, *args, **kwargs)
    return file_uploader


def install() -> None:
    """Give the widgets above the reader's texts as defaults (idempotent; the texts are
    looked up at each call, in the language of the session that draws the widget)."""
    if getattr(DeltaGenerator, _INSTALLED, False):
        return
    for name, wrap in (("selectbox", _selectbox), ("multiselect", _multiselect),
                       ("data_editor", _table), ("dataframe", _table),
                       ("file_uploader", _file_uploader)):
        wrapped = wrap(getattr(DeltaGenerator, name))
        setattr(DeltaGenerator, name, wrapped)
        # `st.selectbox` is a method bound to the main area when streamlit was imported
        setattr(st, name, functools.partial(wrapped, st._main))
    setattr(DeltaGenerator, _INSTALLED, True)
