"""Uploading a document to a person's record and downloading it through the policy."""

import re
from pathlib import PurePath

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header

from access.decorators import roles_required
from access.policy import get_visible_or_404
from records import services
from records.documents import ALLOWED_TYPES
from records.forms.documents import DocumentUploadForm
from records.models import Document, Person
from records.policies import RESIDENT_EDITOR_ROLES
from records.views.people import PERSON_READER_ROLES

UNSAFE_FILENAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_filename(document: Document) -> str:
    """A download name that cannot break the header or the user's file system, with an extension
    that matches the checked content type."""
    stem = PurePath(document.original_filename.replace("\\", "/")).stem
    stem = (
        UNSAFE_FILENAME_CHARACTERS.sub("-", stem).strip(" .-")[:80] or "document-%s" % document.pk
    )
    extension = sorted(ALLOWED_TYPES.get(document.content_type, {"bin"}))[0]
    suffix = PurePath(document.original_filename).suffix.lower().lstrip(".")
    if suffix in ALLOWED_TYPES.get(document.content_type, ()):
        extension = suffix
    return "%s.%s" % (stem, extension)


@roles_required(*RESIDENT_EDITOR_ROLES)
def document_upload(request, pk):
    person = get_visible_or_404(Person.objects.prefetch_related("markers"), request.user, pk=pk)
    form = DocumentUploadForm(
        request.POST or None, request.FILES or None, person=person, user=request.user
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.document_upload(
                uploaded_by=request.user,
                person=person,
                upload=form.cleaned_data["upload"],
                title=form.cleaned_data["title"],
                kind=form.cleaned_data["kind"],
                contact_record=form.cleaned_data["contact_record"],
            )
        except ValidationError as error:
            form.add_service_error(error, "upload")
        else:
            messages.success(request, "Document uploaded for %s." % person.full_name)
            return redirect("person_detail", pk=person.pk)
    return render(request, "records/document_upload.html", {"form": form, "person": person})


def download_response(user, document: Document) -> HttpResponse:
    """The document's bytes as an attachment, read through record-opening audit, that a browser
    will neither sniff nor run."""
    data = services.document_open(user=user, document=document)
    response = HttpResponse(data, content_type=document.content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=safe_filename(document)
    )
    response["Content-Length"] = str(len(data))
    response["X-Content-Type-Options"] = "nosniff"
    # Even if a browser rendered it, an uploaded file gets no script, no styles from elsewhere.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@roles_required(*PERSON_READER_ROLES)
def document_download(request, pk):
    document = get_visible_or_404(Document, request.user, pk=pk)
    return download_response(request.user, document)
