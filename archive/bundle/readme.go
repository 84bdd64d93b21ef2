package bundle

import (
	"fmt"
	"time"

	"github.com/edocgw/edocgw/archive"
)

// readmeText is README.txt: what the bundle is and how to verify it, in
// Vietnamese and English.
func readmeText(id string, digest archive.Digest, size int64, createdAt time.Time, fingerprint archive.Digest) []byte {
	return fmt.Appendf(nil, readmeTemplate, Format,
		id, digest, size, createdAt.Format(stampLayout), fingerprint,
		id, digest, size, createdAt.Format(stampLayout), fingerprint)
}

const readmeTemplate = `HỒ SƠ LƯU TRỮ VĂN BẢN ĐIỆN TỬ / ELECTRONIC DOCUMENT ARCHIVE BUNDLE
%s
(English below)

Văn bản (mã trên trục):   %s
SHA-256 của bản gốc:      %s (%d byte)
Thời điểm lập hồ sơ:      %s
Chứng thư số của trục:    SHA-256 %s

Hồ sơ này chứng minh, không cần kết nối mạng, văn bản đã gửi là gì
(original.edxml), ai gửi, gửi cho ai và khi nào (trace.json, events.json), và
rằng không ai sửa đổi các tệp sau khi trục liên thông ký.

Các tệp
  manifest.json      danh mục: mã văn bản, SHA-256 và kích thước của bản gốc và
                     của từng tệp dưới đây, dấu vân tay chứng thư số của trục
  manifest.sig       chữ ký RSA PKCS#1 v1.5 SHA-256 của trục trên đúng các byte
                     của manifest.json
  README.txt         tệp này
  hub-cert.pem       chứng thư số của trục
  checkpoints.json   các điểm chốt của nhật ký kiểm toán, mỗi điểm do trục ký
  events.json        các sự kiện của nhật ký kiểm toán (chuỗi băm), theo từng
                     đoạn liên tiếp kết thúc tại một điểm chốt đã ký
  verification.json  kết quả kiểm tra chữ ký số của văn bản
  trace.json         dòng thời gian chuyển phát tới từng nơi nhận
  original.edxml     gói tin edXML gốc, nguyên vẹn từng byte

Cách kiểm tra
1. Lấy chứng thư số của trục (hub.pem) từ một nguồn tin cậy, không lấy từ hồ
   sơ này; dấu vân tay SHA-256 của nó phải trùng với dấu vân tay ở trên
   (OpenSSL in chữ hoa, cách nhau bởi dấu hai chấm):
     openssl x509 -in hub.pem -noout -fingerprint -sha256
2. Kiểm tra toàn bộ bằng edocgw:
     edocgw audit verify-bundle HO-SO.zip --hub-cert hub.pem
   Lệnh kiểm tra chữ ký của danh mục, SHA-256 của từng tệp, chuỗi băm của các
   sự kiện và chữ ký của từng điểm chốt, và báo đúng tệp, sự kiện hoặc điểm
   chốt nào bị sửa đổi.
3. Không có edocgw, có thể kiểm tra danh mục và các tệp bằng OpenSSL:
     openssl x509 -in hub.pem -noout -pubkey > hub-pub.pem
     openssl dgst -sha256 -verify hub-pub.pem -signature manifest.sig manifest.json
     sha256sum README.txt hub-cert.pem checkpoints.json events.json \
       verification.json trace.json original.edxml
   Lệnh thứ hai phải in "Verified OK"; các giá trị SHA-256 phải trùng với
   manifest.json. Chuỗi băm và các điểm chốt chỉ edocgw kiểm tra được.

-------------------------------------------------------------------------------

Document (hub id):        %s
SHA-256 of the original:  %s (%d bytes)
Bundle created:           %s
Hub certificate:          SHA-256 %s

This bundle proves, offline, what was sent (original.edxml), by whom, to whom
and when (trace.json, events.json), and that no file was changed after the
exchange hub signed it.

Files
  manifest.json      the index: the document id, the SHA-256 and size of the
                     original and of every file below, the hub certificate's
                     fingerprint
  manifest.sig       the hub's RSA PKCS#1 v1.5 SHA-256 signature over the exact
                     bytes of manifest.json
  README.txt         this file
  hub-cert.pem       the hub's certificate
  checkpoints.json   checkpoints of the audit log, each signed by the hub
  events.json        audit log events (a hash chain), in runs of consecutive
                     events each ending at a signed checkpoint
  verification.json  the result of verifying the document's digital signature
  trace.json         the delivery timeline for every recipient
  original.edxml     the original edXML packet, byte for byte

How to verify
1. Get the hub's certificate (hub.pem) from a source you trust, not from this
   bundle; its SHA-256 fingerprint must be the one above (OpenSSL prints it
   in upper case, with colons):
     openssl x509 -in hub.pem -noout -fingerprint -sha256
2. Verify everything with edocgw:
     edocgw audit verify-bundle BUNDLE.zip --hub-cert hub.pem
   It checks the manifest's signature, every file's SHA-256, the events' hash
   chain and every checkpoint's signature, and names exactly the file, event
   or checkpoint that was changed.
3. Without edocgw, OpenSSL checks the manifest and the files:
     openssl x509 -in hub.pem -noout -pubkey > hub-pub.pem
     openssl dgst -sha256 -verify hub-pub.pem -signature manifest.sig manifest.json
     sha256sum README.txt hub-cert.pem checkpoints.json events.json \
       verification.json trace.json original.edxml
   The second command must print "Verified OK" and the SHA-256 values must be
   those in manifest.json. Only edocgw checks the hash chain and checkpoints.
`
