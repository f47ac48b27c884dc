// qpdf 11: no PointerHolder compatibility (std::shared_ptr throughout).
#define POINTERHOLDER_TRANSITION 4

#include "pdf_probe.h"

#include <qpdf/Pipeline.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFExc.hh>
#include <qpdf/QPDFObjectHandle.hh>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <set>
#include <string>

namespace {

/// Counts decoded bytes without keeping them, and stops the decoding past the budget.
class CountingPipeline : public Pipeline {
  public:
    explicit CountingPipeline(unsigned long long remaining) : Pipeline("dossier-count", nullptr), remaining_(remaining) {}

    void write(unsigned char const *, size_t length) override {
        count_ += length;
        if (count_ > remaining_) {
            over_ = true;
            throw std::runtime_error("decoded-bytes budget exceeded");
        }
    }
    void finish() override {}

    unsigned long long count() const { return count_; }
    bool over() const { return over_; }

  private:
    unsigned long long remaining_;
    unsigned long long count_ = 0;
    bool over_ = false;
};

/// No allocation: safe inside a catch handler (a bad_alloc must not escape extern "C").
void set_message(dossier_pdf_probe *out, dossier_pdf_status status, const char *message) noexcept {
    out->status = status;
    std::strncpy(out->message, message, sizeof(out->message) - 1);
    out->message[sizeof(out->message) - 1] = '\0';
}

void set_message(dossier_pdf_probe *out, dossier_pdf_status status, std::string const &message) noexcept {
    set_message(out, status, message.c_str());
}

bool first_warning(QPDF &pdf, dossier_pdf_probe *out) {
    if (!pdf.anyWarnings()) return false;
    auto warnings = pdf.getWarnings();
    set_message(out, DOSSIER_PDF_DAMAGED, "qpdf would have to repair it");
    return true;
}

/// The filters of a stream, in decoding order.
std::vector<std::string> filters(QPDFObjectHandle stream) {
    std::vector<std::string> names;
    auto filter = stream.getDict().getKey("/Filter");
    if (filter.isName()) {
        names.push_back(filter.getName());
    } else if (filter.isArray()) {
        for (auto &item : filter.aitems()) names.push_back(item.isName() ? item.getName() : "?");
    }
    return names;
}

/// Image codecs qpdf leaves encoded at the "specialized" level: their bytes are pixels, which
/// no reader interprets as PDF objects. A chain that ends in one is piped raw.
bool only_known_with_image_codec(std::vector<std::string> const &chain, std::string &unknown) {
    static const std::set<std::string> image{"/DCTDecode", "/DCT", "/JPXDecode", "/JBIG2Decode", "/CCITTFaxDecode", "/CCF"};
    static const std::set<std::string> general{"/FlateDecode", "/Fl", "/LZWDecode", "/LZW", "/ASCIIHexDecode", "/AHx",
                                               "/ASCII85Decode", "/A85", "/RunLengthDecode", "/RL"};
    bool has_image = false;
    for (auto const &name : chain) {
        if (image.count(name)) {
            has_image = true;
        } else if (!general.count(name)) {
            unknown = name;
            return false;
        }
    }
    if (!has_image) unknown = chain.empty() ? "none" : chain.front();
    return has_image;
}

}  // namespace

extern "C" void dossier_pdf_probe_file(const char *path, dossier_pdf_limits limits, dossier_pdf_probe *out) {
    std::memset(out, 0, sizeof(*out));
    try {
        QPDF pdf;
        pdf.setSuppressWarnings(true);
        pdf.setAttemptRecovery(false);
        try {
            pdf.processFile(path);
        } catch (QPDFExc &e) {
            // Fixed words: qpdf's own message names the scratch file's path.
            if (e.getErrorCode() == qpdf_e_password) {
                set_message(out, DOSSIER_PDF_ENCRYPTED, "password-protected");
            } else {
                set_message(out, DOSSIER_PDF_UNREADABLE, "qpdf cannot read it without repairing it");
            }
            return;
        }
        if (pdf.isEncrypted()) {
            set_message(out, DOSSIER_PDF_ENCRYPTED, "encrypted");
            return;
        }
        if (first_warning(pdf, out)) return;
        // The cross-reference entries in use (getObjectCount is the highest number, not a count).
        if (pdf.getXRefTable().size() > limits.max_objects) {
            set_message(out, DOSSIER_PDF_TOO_COMPLEX, "more than " + std::to_string(limits.max_objects) + " objects");
            return;
        }
        auto objects = pdf.getAllObjects();
        out->objects = objects.size();
        if (objects.size() > limits.max_objects) {
            set_message(out, DOSSIER_PDF_TOO_COMPLEX, "more than " + std::to_string(limits.max_objects) + " objects");
            return;
        }
        out->pages = pdf.getAllPages().size();
        if (out->pages > limits.max_pages) {
            set_message(out, DOSSIER_PDF_TOO_COMPLEX, "more than " + std::to_string(limits.max_pages) + " pages");
            return;
        }
        if (first_warning(pdf, out)) return;

        std::string json = "{\"trailer\":" + pdf.getTrailer().getJSON(2, false).unparse() + ",\"objects\":{";
        bool first = true;
        for (auto &object : objects) {
            if (!first) json += ",";
            first = false;
            json += "\"" + std::to_string(object.getObjectID()) + " " + std::to_string(object.getGeneration()) + "\":";
            json += object.getJSON(2, false).unparse();
            if (!object.isStream()) continue;
            // Every stream decoded (counted, not kept): a filter that fails is refused, and so
            // is more decoded data than the budget allows (a compression bomb).
            CountingPipeline counter(limits.max_decoded_bytes - out->decoded_bytes);
            bool attempted = false;
            bool ok = false;
            try {
                ok = object.pipeStreamData(&counter, &attempted, 0, qpdf_dl_specialized, true, false);
            } catch (std::exception &) {
                ok = false;
            }
            if (counter.over()) {
                set_message(out, DOSSIER_PDF_TOO_COMPLEX, "more than " + std::to_string(limits.max_decoded_bytes / (1024 * 1024)) + " MB of decoded streams");
                return;
            }
            out->decoded_bytes += counter.count();
            std::string label = "object " + std::to_string(object.getObjectID());
            if (!ok) {
                set_message(out, DOSSIER_PDF_UNDECODABLE, "the stream of " + label + " cannot be decoded");
                return;
            }
            auto chain = filters(object);
            std::string unknown;
            if (!attempted && !chain.empty() && !only_known_with_image_codec(chain, unknown)) {
                set_message(out, DOSSIER_PDF_UNDECODABLE, "the stream of " + label + " uses the filter " + unknown);
                return;
            }
            if (pdf.anyWarnings()) {
                set_message(out, DOSSIER_PDF_UNDECODABLE, "the stream of " + label + " is damaged");
                return;
            }
        }
        json += "}}";
        // qpdf writes a name's bytes as they are: outside ASCII, they can break UTF-8. The rules
        // look for ASCII names only, so any other byte (always inside a JSON string) becomes '?'.
        for (auto &byte : json) {
            if (static_cast<unsigned char>(byte) >= 0x80) byte = '?';
        }
        if (first_warning(pdf, out)) return;
        out->json = static_cast<char *>(std::malloc(json.size() + 1));
        if (out->json == nullptr) {
            set_message(out, DOSSIER_PDF_TOO_COMPLEX, "out of memory");
            return;
        }
        std::memcpy(out->json, json.c_str(), json.size() + 1);
        out->json_length = json.size();
        out->status = DOSSIER_PDF_OK;
    } catch (std::bad_alloc &) {
        set_message(out, DOSSIER_PDF_TOO_COMPLEX, "more memory than a document needs");
    } catch (...) {
        set_message(out, DOSSIER_PDF_DAMAGED, "qpdf cannot read it without repairing it");
    }
}

extern "C" void dossier_pdf_probe_release(dossier_pdf_probe *probe) {
    std::free(probe->json);
    probe->json = nullptr;
    probe->json_length = 0;
}
