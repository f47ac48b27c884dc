// libqrencode, from Debian's libqrencode-dev: the QR code of a file certificate's verification
// address.
#include <qrencode.h>
