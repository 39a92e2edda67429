"""Every user-facing failure of posture is a :class:`PostureError`.

Each error carries a ``message`` that names the problem and a ``hint`` that says what to do about it.
The CLI prints ``str(error)`` on one line and exits with status 2; the app shows it with ``st.error``.

One job: the error types. Its place in the layers: the very bottom; it imports nothing, and every
layer raises its children.
"""

from __future__ import annotations


class PostureError(Exception):
    """Base class: a problem the user can understand and act on."""

    code = "error"
    default_hint = "Check the input and try again."

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint or self.default_hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class ImageError(PostureError):
    """The file could not be turned into a photo."""

    code = "bad_image"
    default_hint = "Upload a JPEG, PNG, WebP, HEIC, BMP or TIFF photo straight from the camera."


class EmptyFileError(ImageError):
    code = "empty_file"


class UnsupportedFormatError(ImageError):
    code = "unsupported_format"


class CorruptImageError(ImageError):
    code = "corrupt_image"
    default_hint = "Export or copy the photo again from the phone or camera, and retry."


class ImageTooLargeError(ImageError):
    code = "image_too_large"
    default_hint = "Resize the photo to under 100 megapixels (any phone photo is well below that)."


class ImageTooSmallError(ImageError):
    code = "image_too_small"
    default_hint = "Use a larger photo showing the whole body."


class NoPersonError(PostureError):
    code = "no_person"
    default_hint = (
        "Take a photo of one person standing upright, whole body in the frame, facing or turned away "
        "from the camera, in good light."
    )


class MultiplePeopleError(PostureError):
    """Several people of similar size: it is not clear who the client is. ``boxes`` are the detected
    people's boxes ``(x0, y0, x1, y1)`` in pixels of the full-size photo (y down), LEFT TO RIGHT by
    their centre: ``boxes[i]`` is ``AnalysisOptions(person=i)``, "person i+1" in the message."""

    code = "multiple_people"
    default_hint = (
        "Choose the client (the app: tap their number; the CLI: --person N, 1 = leftmost), or take "
        "the photo with only the client in the frame."
    )

    def __init__(
        self, message: str, hint: str | None = None,
        boxes: tuple[tuple[float, float, float, float], ...] = (),
    ) -> None:
        super().__init__(message, hint)
        self.boxes = boxes


class NotUprightError(PostureError):
    code = "not_upright"
    default_hint = (
        "Photograph the client standing, with the phone held upright; if the photo shows sideways "
        "or upside down, rotate it before uploading."
    )


class ModelError(PostureError):
    code = "model_error"
    default_hint = "Reinstall posture (make run), or point POSTURE_MODEL at a valid .task file."


class InvalidOptionError(PostureError):
    code = "invalid_option"
    default_hint = "See `posture analyze --help` for the accepted values."
