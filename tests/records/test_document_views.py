import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from access.roles import Role
from records.models import Document
from tests.factories import ContactRecordFactory, PatchFactory, tenant_in_patch
from tmo import filestore

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def tenant(patch):
    return tenant_in_patch(patch, first_name="Ines", last_name="Moreau")


def upload(client, person, name, content, **extra):
    data = {"title": "Letter about rent", "kind": Document.Kind.CORRESPONDENCE}
    data.update(extra)
    data["upload"] = SimpleUploadedFile(name, content)
    return client.post(reverse("document_upload", args=[person.pk]), data)


class TestUpload:
    def test_uploads_and_stores_encrypted(self, client, signed_in_officer, tenant):
        contact = ContactRecordFactory(person=tenant)
        response = upload(client, tenant, "letter.pdf", PDF, contact_record=contact.pk)
        assert response.status_code == 302
        document = Document.objects.get()
        assert document.content_type == "application/pdf"
        assert document.contact_record == contact
        assert document.uploaded_by == signed_in_officer
        stored = filestore.document_path(document.storage_name).read_bytes()
        assert stored != PDF
        assert b"%PDF" not in stored
        assert b"Catalog" not in stored

    def test_rejects_png_content_named_pdf(self, client, signed_in_officer, tenant):
        response = upload(client, tenant, "scan.pdf", PNG)
        body = response.content.decode()
        assert response.status_code == 200
        assert "There is a problem" in body
        assert "its content is a image/png file" in body
        assert 'href="#id_upload"' in body
        assert not Document.objects.exists()

    def test_rejects_an_empty_file(self, client, signed_in_officer, tenant):
        body = upload(client, tenant, "empty.txt", b"").content.decode()
        assert "The selected file is empty" in body
        assert not Document.objects.exists()

    def test_rejects_an_oversize_file(self, client, signed_in_officer, tenant, settings):
        settings.DOCUMENT_MAX_BYTES = 1024 * 1024
        body = upload(client, tenant, "big.txt", b"a" * (1024 * 1024 + 1)).content.decode()
        assert "The selected file must be smaller than 1 MB" in body
        assert not Document.objects.exists()
        root = settings.DOCUMENT_ROOT
        assert not root.exists() or not any(p.is_file() for p in root.rglob("*"))

    def test_rejects_a_contact_of_another_person(self, client, signed_in_officer, tenant, patch):
        others = ContactRecordFactory(person=tenant_in_patch(patch))
        body = upload(client, tenant, "a.txt", b"hello", contact_record=others.pk).content.decode()
        assert "Select a valid choice" in body
        assert not Document.objects.exists()

    def test_outsider_cannot_upload(self, client, signed_in_officer):
        outsider = tenant_in_patch(PatchFactory())
        assert upload(client, outsider, "a.txt", b"hello").status_code == 404
        assert not Document.objects.exists()


class TestDownload:
    def test_returns_the_original_bytes_and_audits_once(
        self, client, signed_in_officer, tenant, access_entries
    ):
        upload(client, tenant, "Rent letter (final).pdf", PDF)
        document = Document.objects.get()
        response = client.get(reverse("document_download", args=[document.pk]))
        assert response.status_code == 200
        assert response.content == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Disposition"] == 'attachment; filename="Rent letter -final.pdf"'
        assert access_entries(document).count() == 1

    def test_unsafe_filename_is_cleaned(self, client, signed_in_officer, tenant):
        upload(client, tenant, "notes.txt", b"plain words")
        Document.objects.update(original_filename='..\\..\\evil"\r\nname;.txt')
        document = Document.objects.get()
        response = client.get(reverse("document_download", args=[document.pk]))
        disposition = response["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert "\r" not in disposition and "\n" not in disposition and ".." not in disposition
        assert disposition == 'attachment; filename="evil-name.txt"'

    def test_out_of_scope_user_gets_404(
        self, client, signed_in_officer, tenant, login_as, access_entries
    ):
        upload(client, tenant, "letter.pdf", PDF)
        document = Document.objects.get()
        for role in (Role.HOUSING_OFFICER, Role.REPAIRS_OFFICER, Role.HR_OFFICER):
            login_as(role)
            response = client.get(reverse("document_download", args=[document.pk]))
            assert response.status_code == 404
            assert PDF not in response.content
        login_as(Role.COMMITTEE_MEMBER)
        assert client.get(reverse("document_download", args=[document.pk])).status_code == 403
        assert access_entries(document).count() == 0

    def test_person_page_lists_the_document(self, client, signed_in_officer, tenant):
        upload(client, tenant, "letter.pdf", PDF, title="Arrears letter")
        document = Document.objects.get()
        body = client.get(reverse("person_detail", args=[tenant.pk])).content.decode()
        assert "Arrears letter" in body
        assert reverse("document_download", args=[document.pk]) in body
